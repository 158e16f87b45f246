"""Hypothesis strategies: scenarios that vary every org setting the engine has."""

from __future__ import annotations

from hypothesis import strategies as st

import gtmsim
from tests.conftest import BASE


@st.composite
def overrides(draw, horizon_days=(14, 45)) -> dict:
    """Dotted-key overrides of the base market that switch mechanisms on and off."""
    qualifier = draw(st.sampled_from(["sdr", "ae"]))
    route = draw(st.sampled_from(["pooled", "round_robin", "least_loaded", "segment"]))
    o = {
        "simulation.horizon_days": draw(st.integers(*horizon_days)),
        "handoff.qualifier": qualifier,
        "handoff.route": route,
        "handoff.rejected": "discard",
        "handoff.sla_hours": draw(st.sampled_from(["none", 1.0, 8.0])),
        "handoff.max_attempts": draw(st.integers(1, 4)),
        "handoff.abandon_after_days": draw(st.sampled_from([2.0, 30.0])),
        "marketing.nurture.enabled": (nurture := draw(st.booleans())),
        "marketing.nurture.rescore_every_days": draw(st.integers(1, 14)),
        "marketing.nurture.engaged_share": draw(st.sampled_from([0.1, 1.0])),
        "market.buying_window.return_share": draw(st.sampled_from([0.0, 0.05, 0.5])),
        "marketing.scoring.mql_threshold": draw(st.floats(0.2, 0.7)),
        "marketing.scoring.noise_sd": draw(st.floats(0.0, 0.3)),
        "sales.trust.enabled": draw(st.booleans()),
        "sales.sdr.queue_order": draw(st.sampled_from(["fifo", "score"])),
        "deals.enablement_share": draw(st.sampled_from([0.0, 0.3])),
        "budget.embedded_marketers.headcount": draw(st.sampled_from([0, 2])),
        "budget.embedded_marketers.segments": ["enterprise"],
        "budget.embedded_marketers.accounts_per_marketer": 5,
        "budget.embedded_marketers.consensus_share": 0.5,
    }
    if nurture:
        o["handoff.rejected"] = draw(st.sampled_from(["recycle", "discard"]))
    sdr = draw(st.integers(1 if qualifier == "sdr" else 0, 14))
    ae = draw(st.integers(3, 30))
    o["sales.sdr.headcount"] = sdr
    o["sales.ae.headcount"] = ae
    if route == "segment" and qualifier == "sdr" and sdr < 3:
        o["handoff.route"] = "round_robin"  # too few SDRs to cover three segments
    elif route == "segment":
        if sdr >= 3:
            o["sales.sdr.headcount_by_segment"] = _split(sdr, draw)
        o["sales.ae.headcount_by_segment"] = _split(ae, draw)
    return o


def _split(n: int, draw) -> dict:
    """n >= 3 reps over the three segments, at least one each."""
    a = draw(st.integers(1, n - 2))
    b = draw(st.integers(1, n - a - 1))
    return {"smb": a, "midmarket": b, "enterprise": n - a - b}


@st.composite
def scenarios(draw, horizon_days=(14, 45)):
    """A valid scenario built from the base market with random org settings."""
    o = draw(overrides(horizon_days))
    try:
        return gtmsim.load_scenario(BASE, o)
    except gtmsim.ScenarioError:
        # combinations the schema rightly refuses (e.g. segment routing without reps
        # in a segment) are not what these properties are about
        from hypothesis import reject

        reject()
