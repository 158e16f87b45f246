"""The language users write: the scenario schema, the TOML loader, and its errors."""

from gtmsim.scenario.assumptions import with_values
from gtmsim.scenario.errors import Problem, ScenarioError
from gtmsim.scenario.loader import load_scenario
from gtmsim.scenario.schema import Assumption, Scenario

__all__ = ["Assumption", "Problem", "Scenario", "ScenarioError", "load_scenario", "with_values"]
