"""The language users write: the scenario schema, the TOML loader, and its errors."""

from gtmsim.scenario.errors import Problem, ScenarioError
from gtmsim.scenario.loader import load_scenario
from gtmsim.scenario.schema import Scenario

__all__ = ["Problem", "Scenario", "ScenarioError", "load_scenario"]
