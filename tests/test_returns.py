"""Buyers nobody in sales is working on come back by themselves when their window opens."""

from __future__ import annotations

import numpy as np

import gtmsim
from gtmsim.model.leads import State
from gtmsim.model.world import World
from gtmsim.results.metrics import compute_metrics
from tests.conftest import BASE

HORIZON = 200.0


def run(**overrides) -> World:
    settings = {"simulation.horizon_days": HORIZON, "marketing.nurture.enabled": False}
    settings.update(overrides)
    return World(gtmsim.load_scenario(BASE, settings), 0).run()


def in_run(world: World) -> np.ndarray:
    """Inquiries created during the run that never became an MQL."""
    s = world.store
    n = s.n
    inbound = s.channel[:n] < world.marketing.outbound_channel
    return np.flatnonzero(inbound & (s.created_day[:n] >= 0) & (s.mql_count[:n] == 0))


def test_without_returns_a_discarded_lead_stays_discarded():
    world = run(**{"market.buying_window.return_share": 0.0})
    never_mql = in_run(world)
    assert np.all(world.store.state[never_mql] == State.DISCARDED)
    assert compute_metrics(world)["buyers_returned"] == 0
    assert world.store.created_day[: world.store.n].min() >= 0  # no year before the run


def test_every_discarded_buyer_comes_back_when_all_do():
    world = run(**{"market.buying_window.return_share": 1.0})
    s = world.store
    never_mql = in_run(world)
    opens = s.window_open_day[never_mql]
    came_back = s.state[never_mql] != State.DISCARDED
    # back exactly when its window opened before the end (the last day's returns may be
    # still to come); a lead that never buys, or buys later, stays discarded
    assert np.all(came_back[opens < HORIZON - 1])
    assert not np.any(came_back[~(opens < HORIZON)])
    assert np.all(s.state[never_mql][came_back] >= State.ACCEPTED)
    m = compute_metrics(world)
    assert m["buyers_returned"] >= came_back.sum()
    # sales accepted MQLs after a conversation, and the buyers who came back
    assert m["accepted"] == m["mqls_accepted"] + m["buyers_returned"]


def test_the_same_buyers_come_back_whatever_the_sales_team():
    # before the first quarter's end, so that no budget rule reacts to sales' results
    share = {"market.buying_window.return_share": 0.3, "simulation.horizon_days": 85}
    a = run(**share)
    b = run(**share, **{"sales.ae.headcount": 20})

    def returned(world):  # by channel and time of birth: prospects shift the lead indices
        s, never_mql = world.store, in_run(world)
        back = never_mql[s.state[never_mql] != State.DISCARDED]
        return set(zip(s.channel[back].tolist(), s.created_day[back].tolist(), strict=True))

    assert returned(a) == returned(b) and len(returned(a)) > 20


def test_the_year_before_the_run_sends_its_buyers_back():
    world = run(**{"market.buying_window.return_share": 0.2})
    s = world.store
    before = np.flatnonzero(s.created_day[: s.n] < 0)
    assert len(before) > 20
    assert np.all(s.created_day[before] >= -365)
    # only buyers whose window opens during the run are kept, and they count as inquiries
    assert np.all((s.window_open_day[before] >= 0) & (s.window_open_day[before] < HORIZON))
    m = compute_metrics(world)
    assert m["inquiries"] + m["prospects_created"] == m["leads_created"] == s.n
    early = before[s.window_open_day[before] < HORIZON - 1]
    assert np.all(s.state[early] >= State.ACCEPTED)


def test_a_closed_monday_does_not_stop_the_year_before_the_run():
    weekdays = [0.0, 1.0, 1.0, 1.0, 1.0, 0.5, 0.5]
    world = run(**{"market.arrivals.weekday_weights": weekdays, "simulation.horizon_days": 14})
    assert (world.store.created_day[: world.store.n] < 0).any()
