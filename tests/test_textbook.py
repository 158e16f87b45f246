"""With behaviour switched off, the engine is a textbook queue and must agree with theory.

Poisson MQL arrivals, c reps working a pooled FIFO queue around the clock,
exponential work times, every lead reached on the first attempt: an M/M/c
queue. The mean wait until first response must match the Erlang C formula
within the 95% confidence interval of the replications.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

import gtmsim


def erlang_c_wait(arrivals_per_hour: float, service_hours: float, servers: int) -> float:
    """Mean wait in queue of an M/M/c system, hours (Erlang C)."""
    a = arrivals_per_hour * service_hours  # offered load, Erlangs
    rho = a / servers
    terms = sum(a**k / math.factorial(k) for k in range(servers))
    top = a**servers / math.factorial(servers) / (1 - rho)
    p_wait = top / (terms + top)
    return p_wait * service_hours / (servers * (1 - rho))


def mmc_scenario(arrivals_per_hour: float, service_hours: float, servers: int, days: int):
    return gtmsim.load_scenario(
        {
            "name": "M/M/c",
            "simulation": {"horizon_days": days, "seed": 7},
            "market": {
                "channels": {"inbound": {"organic_leads_per_week": arrivals_per_hour * 168}}
            },
            "handoff": {"qualifier": "sdr", "route": "pooled", "max_attempts": 1},
            "sales": {
                "sdr": {
                    "headcount": servers,
                    "qualification_hours": {"kind": "exponential", "mean": service_hours},
                },
                "ae": {"headcount": 1},
            },
            "deals": {"stages": {"discovery": {"pass_probability": 0.0}, "close": {}}},
        }
    )


def test_defaults_switch_behaviour_off():
    s = mmc_scenario(2.0, 1.0, 3, 10)
    assert s.marketing.scoring.mql_threshold < 0  # every lead is an MQL
    assert not s.marketing.nurture.enabled and not s.sales.trust.enabled
    assert s.handoff.speed_to_lead.contact_probability == 1.0  # every attempt reaches
    assert s.sales.sdr.work_hours.start_hour == 0 and s.sales.sdr.work_hours.end_hour == 24
    assert s.sales.sdr.admin_share == 0 and s.sales.sdr.internal_meetings_share == 0


def test_mean_first_response_matches_erlang_c():
    lam, service, c = 2.4, 1.0, 3  # utilisation 0.8
    scenario = mmc_scenario(lam, service, c, days=120)
    waits = []
    for r in range(12):
        result = gtmsim.simulate(scenario, replication=r)
        assert result.metrics["mqls_never_followed_up_share"] < 0.01
        waits.append(result.metrics["first_response_hours_mean"])
    waits = np.array(waits)
    half = stats.t.ppf(0.975, len(waits) - 1) * waits.std(ddof=1) / math.sqrt(len(waits))
    theory = erlang_c_wait(lam, service, c)
    assert abs(waits.mean() - theory) <= half, (waits.mean(), half, theory)
    assert half < 0.25 * theory  # the check has teeth: the interval is narrow


def test_erlang_c_formula_itself():
    # M/M/1: Wq = rho / (mu - lambda)
    assert math.isclose(erlang_c_wait(0.5, 1.0, 1), 0.5 / (1 - 0.5))
