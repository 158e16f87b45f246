"""gtmsim: a go-to-market simulation engine.

Leads flow through marketing and sales stages under an organisation design
written as data (a scenario), so that designs can be compared on the same
market, the same leads and the same random draws.

>>> import gtmsim
>>> scenario = gtmsim.load_scenario("scenarios/base/market.toml", {"sales.ae.headcount": 30})
>>> result = gtmsim.simulate(scenario, replication=0)
>>> result.metrics["bookings"]  # doctest: +SKIP
"""

__version__ = "0.1.0"

from gtmsim.experiment.attribute import Attribution, attribute
from gtmsim.experiment.calibrate import calibrate, load_observed
from gtmsim.experiment.compare import compare, revenue_bridge
from gtmsim.experiment.ensemble import Ensemble
from gtmsim.experiment.optimise import optimise
from gtmsim.experiment.robust import RobustResult, robust
from gtmsim.experiment.run import (
    ExperimentError,
    ExperimentInterrupted,
    PrecisionNotReached,
    run_experiment,
)
from gtmsim.experiment.sensitivity import sobol_sensitivity
from gtmsim.experiment.sweep import sweep
from gtmsim.results.metrics import METRICS
from gtmsim.results.run import RunResult
from gtmsim.scenario.errors import Problem, ScenarioError
from gtmsim.scenario.loader import load_scenario
from gtmsim.scenario.schema import Scenario
from gtmsim.simulate import simulate

__all__ = [
    "METRICS",
    "Attribution",
    "Ensemble",
    "ExperimentError",
    "ExperimentInterrupted",
    "PrecisionNotReached",
    "Problem",
    "RobustResult",
    "RunResult",
    "Scenario",
    "ScenarioError",
    "__version__",
    "attribute",
    "calibrate",
    "compare",
    "load_observed",
    "load_scenario",
    "optimise",
    "revenue_bridge",
    "robust",
    "run_experiment",
    "simulate",
    "sobol_sensitivity",
    "sweep",
]
