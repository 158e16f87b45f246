"""Imported once by the live page's fork server, so that every worker it forks starts warm."""

from gtmsim.experiment.executors import warm_up
from gtmsim.experiment.run import run_replication  # noqa: F401  (the engine, imported)

warm_up()
