"""RunResult: everything one replication produced, as plain data."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gtmsim.results.metrics import HEADLINE_METRICS, METRICS
from gtmsim.results.table import ShownAsTable, Table


@dataclass(frozen=True)
class RunResult(ShownAsTable):
    """The outcome of one replication of one scenario.

    Attributes
    ----------
    scenario_name, scenario_hash
        Which scenario ran (the hash covers every setting).
    replication, seed
        Which random streams it used.
    metrics
        Flat mapping of documented scalar metrics (see :data:`gtmsim.METRICS`).
    lead_final_states
        Leads by final state; the counts sum to ``metrics["leads_created"]``.
    weekly
        Weekly series as numpy arrays: ``bookings_usd``, ``pipeline_created_usd``,
        ``mqls``, ``deals_won_inbound``, ``first_response_hours_mean`` (nan in
        weeks without a first attempt), ``marketing_spend_usd`` and
        ``marketing_spend_usd.channel.<name>``; and the organisation's state
        (M7-M9): ``mql_threshold``, ``scoring_noise_sd`` and
        ``marketing_budget_usd_per_week`` in force during the week,
        ``missed_quarters`` (sales' current streak of missed quarters),
        ``ae_headcount`` (AEs selling during the week),
        ``trust_ae_mean`` and ``trust_sdr_mean`` at the week's end, and
        ``ae_prospecting_share`` (AEs' productive hours that week spent prospecting).
    funnel
        Counts by funnel stage x channel x segment (labels in ``funnel_labels``).
    transitions
        Lead state transitions made: row = from (last row: newly created), column = to.
    reps
        Per-rep tables of each team (``"ae"``, ``"sdr"``): name, hours by activity,
        trust, bookings, the day the rep started selling.
    first_response_hours
        Delay of every first attempt, hours.
    manifest
        Seeds, versions, horizon, wall time: what is needed to reproduce the run.
    """

    scenario_name: str
    scenario_hash: str
    replication: int
    seed: int
    metrics: dict[str, float]
    lead_final_states: dict[str, int]
    weekly: dict[str, np.ndarray]
    funnel: np.ndarray
    funnel_labels: dict[str, list[str]]
    transitions: np.ndarray
    reps: dict[str, dict[str, np.ndarray]]
    first_response_hours: np.ndarray
    manifest: dict[str, Any] = field(default_factory=dict)

    def _display(self) -> tuple[str, Table]:
        """A title and the headline metrics with their meaning."""
        days = self.manifest.get("horizon_days")
        span = f", {days:g} days" if isinstance(days, int | float) else ""
        title = (
            f"RunResult: {self.scenario_name}, replication {self.replication} "
            f"(seed {self.seed}){span}"
        )
        shown = [m for m in HEADLINE_METRICS if m in self.metrics]
        return title, Table(
            {
                "metric": shown,
                "value": [self.metrics[m] for m in shown],
                "meaning": [METRICS[m] for m in shown],
            }
        )
