"""M7-M9: incentives, reviews, budget rules, leadership and the joint team, one at a time."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

import gtmsim
from gtmsim.model.org import QUARTER_DAYS, staffing
from gtmsim.model.world import World
from tests.conftest import BASE

ROOT = Path(__file__).resolve().parent.parent


def two_channel_market(**org) -> dict:
    """A small market: a cheap channel of poor leads and a dear channel of good ones."""
    scenario = {
        "simulation": {"horizon_days": 2 * QUARTER_DAYS + 1, "seed": 5},
        "market": {
            "channels": {
                "cheap": {
                    "spend_usd_per_week": 5000,
                    "max_leads_per_week": 100,
                    "half_saturation_usd_per_week": 5000,
                    "fit": {"kind": "beta", "a": 1.0, "b": 5.0},
                },
                "dear": {
                    "spend_usd_per_week": 5000,
                    "max_leads_per_week": 25,
                    "half_saturation_usd_per_week": 5000,
                    "fit": {"kind": "beta", "a": 5.0, "b": 1.5},
                },
            },
        },
        "marketing": {"scoring": {"noise_sd": 0.1, "mql_threshold": 0.5}},
        "sales": {
            "ae": {"headcount": 4, "work_hours": {"start_hour": 9, "end_hour": 17}},
        },
    }
    for key, value in org.items():
        node = scenario
        *path, last = key.split(".")
        for part in path:
            node = node.setdefault(part, {})
        node[last] = value
    return scenario


def run(mapping, replication=0) -> World:
    return World(gtmsim.load_scenario(mapping), replication).run()


def test_a_lead_count_kpi_lowers_the_threshold_and_buys_cheaper_worse_leads():
    goodhart = run(
        two_channel_market(
            **{
                "incentives.marketing.kpi": "leads",
                "incentives.marketing.target_per_quarter": 1e6,  # always behind
                "incentives.marketing.threshold_step_per_week": 0.01,
                "incentives.marketing.reallocation_share_per_quarter": 0.8,
            }
        )
    )
    agreed = run(two_channel_market())
    assert goodhart.marketing.mql_threshold < 0.5 - 0.15
    assert agreed.marketing.mql_threshold == 0.5
    cheap, dear = goodhart.marketing.spend_usd_per_week
    assert cheap > 2 * dear  # more leads per dollar
    assert goodhart.marketing.spend_usd_per_week.sum() == pytest.approx(10_000)

    def mql_fit(world):
        store = world.store
        n = store.n
        return store.fit[:n][store.mql_count[:n] > 0].mean()

    assert mql_fit(goodhart) < mql_fit(agreed) - 0.05


def test_marketing_ahead_of_target_raises_the_threshold_back_but_never_above_the_agreed_one():
    world = run(
        two_channel_market(
            **{
                "marketing.scoring.mql_threshold": 0.3,
                "incentives.marketing.kpi": "mqls",
                "incentives.marketing.target_per_quarter": 1.0,  # always ahead
                "incentives.marketing.threshold_step_per_week": 0.05,
            }
        )
    )
    assert world.marketing.mql_threshold == 0.3


def test_sales_misses_raise_marketings_target():
    world = run(
        two_channel_market(
            **{
                "sales.ae.quota_usd_per_year": 1e9,
                "incentives.marketing.kpi": "mqls",
                "incentives.marketing.target_per_quarter": 100.0,
                "incentives.marketing.target_raise_after_sales_miss_share": 0.5,
            }
        )
    )
    assert world.org.quarters.missed_streak == 2
    assert world.org.kpi.target == pytest.approx(100 * 1.5**2)


def test_reviews_sharpen_scoring_and_cost_every_attendees_hours():
    sc = two_channel_market(
        **{
            "feedback.cadence": "weekly",
            "feedback.noise_reduction_share": 0.1,
            "feedback.noise_floor_sd": 0.02,
            "feedback.hours_per_attendee": 1.5,
        }
    )
    world = run(sc)
    reviews = world.org.reviews.held
    assert reviews == (2 * QUARTER_DAYS) // 7
    assert world.marketing.noise_sd == pytest.approx(0.02 + 0.08 * 0.9**reviews)
    result = gtmsim.simulate(gtmsim.load_scenario(sc))
    quiet = gtmsim.simulate(gtmsim.load_scenario(two_channel_market()))
    extra = (
        result.metrics["ae_hours_internal_meetings"] - quiet.metrics["ae_hours_internal_meetings"]
    )
    assert extra == pytest.approx(4 * 1.5 * reviews, rel=0.02)
    assert result.metrics["ae_hours_prospecting"] < quiet.metrics["ae_hours_prospecting"]


def test_monthly_and_never_cadences():
    monthly = run(two_channel_market(**{"feedback.cadence": "monthly"}))
    never = run(two_channel_market())
    assert monthly.org.reviews.held == (2 * QUARTER_DAYS) // 28
    assert never.org.reviews.held == 0


def test_closed_loop_attribution_moves_budget_to_channels_that_win_revenue():
    world = run(
        two_channel_market(
            **{
                "simulation.horizon_days": 3 * QUARTER_DAYS,
                "feedback.cadence": "weekly",
                "feedback.attribution": "won_revenue",
                "feedback.budget_shift_share": 0.2,
                "deals.fit_sensitivity": 1.0,
                "handoff.acceptance_threshold": 0.4,
            }
        )
    )
    cheap, dear = world.marketing.spend_usd_per_week
    assert dear > cheap


def test_trust_recalibration_moves_trust_toward_the_acceptance_of_reached_leads():
    sc = two_channel_market(
        **{
            "sales.trust.enabled": True,
            "sales.trust.learning_rate": 0.0,  # only reviews move trust here
            "sales.trust.initial": 0.0,
            "handoff.acceptance_threshold": 0.2,
            "feedback.cadence": "weekly",
            "feedback.trust_recalibration_share": 0.5,
        }
    )
    world = run(sc)
    assert world.ae.mean_trust() > 0.2


def test_budget_cut_after_missed_quarters():
    world = run(
        two_channel_market(
            **{
                "sales.ae.quota_usd_per_year": 1e9,
                "budget.rule": "cut_after_misses",
                "budget.cut_after_missed_quarters": 2,
                "budget.cut_share": 0.25,
            }
        )
    )
    assert world.marketing.spend_usd_per_week.sum() == pytest.approx(10_000 * 0.75)
    weekly = gtmsim.simulate(world.scenario).weekly
    budget = weekly["marketing_budget_usd_per_week"]
    assert budget[0] == pytest.approx(10_000) and budget[-1] == pytest.approx(7_500)
    assert list(np.unique(weekly["missed_quarters"])) == [0, 1, 2]


def test_budget_as_a_share_of_bookings_starts_after_a_year():
    sc = two_channel_market(
        **{
            "simulation.horizon_days": 5 * QUARTER_DAYS + 7,
            "budget.rule": "share_of_bookings",
            "budget.bookings_share": 0.5,
        }
    )
    world = run(sc)
    year = sum(world.org.quarters.bookings_usd[-4:])
    assert year > 0
    assert world.marketing.spend_usd_per_week.sum() == pytest.approx(0.5 * year / 52)


def test_bookings_buy_ae_headcount_from_the_second_year_with_a_lag_and_a_ramp():
    hiring = {
        "simulation.horizon_days": 6 * QUARTER_DAYS,
        "sales.ae.cost_usd_per_year": 1000.0,  # cheap AEs: every dollar of bookings buys some
        "budget.hiring.rule": "share_of_bookings",
        "budget.hiring.max_hires_per_quarter": 3,
        "sales.ae.time_to_hire_days": 20,
        "sales.ae.ramp_days": 40,
    }
    fixed = run(two_channel_market(**{"simulation.horizon_days": 6 * QUARTER_DAYS}))
    grown = run(two_channel_market(**hiring))
    assert len(fixed.ae.reps) == 4 and fixed.org.staffing.hired["ae"] == 0
    # decided at the ends of quarters 4 and 5; selling 20 + 40 / 2 days later
    decided = [4 * QUARTER_DAYS, 5 * QUARTER_DAYS]
    hires = grown.ae.reps[4:]
    assert [r.joined_day for r in hires] == [d + 40 for d in decided for _ in range(3)]
    assert [r.paid_from_day for r in hires] == [d + 20 for d in decided for _ in range(3)]
    assert all(r.bookings_usd >= 0 and r.trust == grown.ae.trust_initial for r in hires[3:])

    result = gtmsim.simulate(grown.scenario)
    headcount = result.weekly["ae_headcount"]
    assert headcount[0] == 4 and headcount[-1] == 10 and np.all(np.diff(headcount) >= 0)
    m = result.metrics
    assert m["ae_hired"] == 6 and m["ae_headcount_end"] == 10
    # a hire costs from signing, not from the start of the run
    paid_days = 4 * 6 * QUARTER_DAYS + sum(6 * QUARTER_DAYS - r.paid_from_day for r in hires)
    sdr = len(grown.sdr.reps) * grown.sdr.spec.cost_usd_per_year * 6 * QUARTER_DAYS / 365
    assert m["sales_cost_usd"] == pytest.approx(1000.0 * paid_days / 365 + sdr)
    # hires paid but not yet selling at the end cost too: stop the run 30 days into
    # quarter 6, when the last three are paid (from day 20) but not selling (day 40)
    end = 5 * QUARTER_DAYS + 30
    shorter = gtmsim.load_scenario(
        grown.scenario.model_dump(mode="json"), {"simulation.horizon_days": end}
    )
    early = gtmsim.simulate(shorter)
    assert early.metrics["ae_headcount_end"] == 7
    paid_days = 4 * end + sum(end - r.paid_from_day for r in hires)
    sdr = len(grown.sdr.reps) * grown.sdr.spec.cost_usd_per_year * end / 365
    assert early.metrics["sales_cost_usd"] == pytest.approx(1000.0 * paid_days / 365 + sdr)
    # and a hire's quota is pro-rated from the day they start selling
    quota = grown.scenario.sales.ae.quota_usd_per_year
    attainment = result.reps["ae"]["bookings_usd"] / (
        quota * (6 * QUARTER_DAYS - result.reps["ae"]["joined_day"]) / 365
    )
    assert m["ae_quota_missed_share"] == pytest.approx(float((attainment < 1).mean()))


def attrition_market(**org) -> dict:
    return two_channel_market(
        **{
            "simulation.horizon_days": 7 * QUARTER_DAYS,  # AEs are judged on a full year
            "sales.ae.headcount": 8,
            "sales.ae.attrition_share_per_year": 0.0,
            "sales.ae.attrition_share_per_year_below_quota": 0.9,
            "sales.ae.time_to_hire_days": 10,
            "sales.ae.ramp_days": 20,
            "handoff.route": "round_robin",  # own queues: a leaver's leads must move
            **org,
        }
    )


def test_reps_below_quota_leave_and_their_seats_are_refilled():
    world = run(attrition_market(**{"sales.ae.quota_usd_per_year": 1e9}))
    ae, staffing = world.ae, world.org.staffing
    assert staffing.left["ae"] > 0 and ae.former
    for rep in ae.former:
        assert rep.left_day % QUARTER_DAYS == 0
        assert not rep.deals and rep.open_deals == 0 and len(rep.queue) == 0
    assert any(rep.left_day >= 5 * QUARTER_DAYS for rep in ae.former)  # judged after a year
    # every seat left before the last 20 days of the run was refilled 10 + 20 / 2 days later
    refilled = [r for r in (*ae.reps, *ae.former) if r.joined_day > 0]
    assert sorted(r.joined_day for r in refilled) == sorted(
        r.left_day + 20 for r in ae.former if r.left_day + 20 <= world.horizon
    )
    assert all(r.paid_from_day == r.joined_day - 10 for r in refilled)
    assert len(ae.reps) + len(staffing.pending) == 8
    # on quota nobody judged leaves (the on-quota rate is 0 here); before a year of
    # bookings an AE's standing is unknown, and they leave at the midpoint of the rates
    on_quota = run(attrition_market(**{"sales.ae.quota_usd_per_year": 0.0})).ae
    assert on_quota.former
    for rep in on_quota.former:
        assert rep.left_day < max(rep.joined_day, 0.0) + 5 * QUARTER_DAYS
    # every lead still ends in exactly one state, and a leaver is paid until leaving
    result = gtmsim.simulate(world.scenario)
    assert sum(result.lead_final_states.values()) == result.metrics["leads_created"]
    assert result.metrics["ae_left"] == staffing.left["ae"]
    reps = result.reps["ae"]
    assert np.isnan(reps["left_day"]).sum() == len(ae.reps)


def test_hiring_frozen_after_misses_leaves_seats_empty():
    frozen = run(
        attrition_market(
            **{"sales.ae.quota_usd_per_year": 1e9, "budget.hiring.backfill": "frozen_after_misses"}
        )
    )
    staffing = frozen.org.staffing
    assert staffing.left["ae"] > 0 and staffing.hired["ae"] == 0
    assert len(frozen.ae.reps) == 8 - staffing.left["ae"]
    assert len(staffing.frozen) == staffing.left["ae"]
    weekly = gtmsim.simulate(frozen.scenario).weekly["ae_headcount"]
    assert weekly[0] == 8 and weekly[-1] == len(frozen.ae.reps) and np.all(np.diff(weekly) <= 0)
    # the empty seats still count in sales' target
    assert frozen.org.quarters.targets_usd[-1] == pytest.approx(8 * 1e9 * QUARTER_DAYS / 365)

    half = run(
        attrition_market(
            **{
                "sales.ae.quota_usd_per_year": 1e9,
                "budget.hiring.backfill": "frozen_after_misses",
                "budget.hiring.frozen_share": 0.5,
            }
        )
    ).org.staffing
    vacated = half.left["ae"]
    assert len(half.frozen) == vacated // 2
    assert len(half.frozen) + len(half.pending) + half.hired["ae"] == vacated


def test_quarter_end_push_closes_slipping_deals_early_at_a_discount():
    push = {
        "simulation.horizon_days": 2 * QUARTER_DAYS,
        "sales.ae.quota_usd_per_year": 1e9,  # always behind
        "incentives.sales.quarter_end_days": 14,
        "incentives.sales.quarter_end_discount_share": 0.2,
    }
    world = World(gtmsim.load_scenario(BASE, push)).run()
    q = world.org.quarters
    assert q.pulled_in > 0
    assert sum(world.rec.won_deal_sizes_usd) == pytest.approx(sum(world.rec.weekly_bookings_usd))
    calm = World(gtmsim.load_scenario(BASE, {**push, "incentives.sales.quarter_end_days": 0}))
    assert calm.run().org.quarters.pulled_in == 0
    m = gtmsim.simulate(world.scenario).metrics
    assert m["deals_pulled_in"] == q.pulled_in
    assert m["quarter_end_discounts_usd"] == pytest.approx(q.discounts_usd) and q.discounts_usd > 0

    # the rule: last days of the quarter, a close that would slip past its end, a rep behind
    rep = world.ae.reps[0]
    end = 2 * QUARTER_DAYS
    behind = q._booked(rep) < q.quota_usd_per_quarter
    assert behind
    assert q.close_early(world.ae, rep, window_open=end + 5, now=end - 3)
    assert not q.close_early(world.ae, rep, window_open=end + 5, now=end - 20)  # too early
    assert not q.close_early(world.ae, rep, window_open=end - 1, now=end - 3)  # closes anyway
    q.quota_usd_per_quarter = 0.0
    assert not q.close_early(world.ae, rep, window_open=end + 5, now=end - 3)  # on target


def test_leadership_churn_resets_what_was_learned():
    world = run(
        two_channel_market(
            **{
                "sales.ae.quota_usd_per_year": 1e9,
                "feedback.cadence": "weekly",
                "feedback.noise_reduction_share": 0.2,
                "leadership.churn_after_missed_quarters": 2,
            }
        )
    )
    assert world.org.leaders_replaced == 1
    # the reviews' learning is gone: back to 0.1 at the second quarter's end, then one review
    assert world.marketing.noise_sd == pytest.approx(0.1 * 0.8)


def test_team_pay_makes_reps_work_every_lead_they_are_given():
    trust = {
        "sales.trust.enabled": True,
        "sales.trust.initial": 0.0,
        "sales.trust.learning_rate": 0.0,
        "sales.trust.cherry_pick_score": 0.3,
        "sales.trust.follow_up_share_at_zero_trust": 0.05,
    }
    individual = gtmsim.simulate(gtmsim.load_scenario(two_channel_market(**trust)))
    team = gtmsim.simulate(
        gtmsim.load_scenario(two_channel_market(**trust, **{"incentives.sales.plan": "team"}))
    )
    assert (
        team.metrics["mqls_never_followed_up_share"]
        < individual.metrics["mqls_never_followed_up_share"] - 0.2
    )
    assert team.metrics["ae_hours_follow_up"] > individual.metrics["ae_hours_follow_up"]


def test_low_trust_caps_the_hours_a_rep_gives_marketing_leads():
    capped = two_channel_market(
        **{
            "sales.trust.enabled": True,
            "sales.trust.initial": 0.0,
            "sales.trust.learning_rate": 0.0,
            "sales.trust.follow_up_share_at_zero_trust": 0.05,
            "sales.ae.attempt_hours": 1.0,
            "sales.ae.qualification_hours": 2.0,
        }
    )
    world = run(capped)
    days_worked = int(world.horizon) + 1  # this team works every day
    cap = 8 * 0.05  # hours per rep and working day
    per_rep = [r.follow_up_hours for r in world.ae.reps]
    # every lead is reached and takes 2 h, more than the cap: one lead a day, no more
    assert cap < 2.0
    assert max(per_rep) <= days_worked * 2.0
    free = run(capped | {"sales": {**capped["sales"], "trust": {"enabled": False}}})
    assert sum(per_rep) < 0.9 * sum(r.follow_up_hours for r in free.ae.reps)
    # an SLA binds the rep as it does against cherry-picking: no cap, whatever the trust
    bound = run(capped | {"handoff": {"sla_hours": 24}})
    assert bound.ae.cap_at_zero_trust == 1.0 and bound.ae.cherry_pick == 0.0
    assert sum(r.follow_up_hours for r in bound.ae.reps) > 1.1 * sum(per_rep)


def test_sdrs_paid_on_meetings_pass_weaker_leads():
    sdr = {
        "handoff.qualifier": "sdr",
        "handoff.acceptance_threshold": 0.5,
        "sales.sdr.headcount": 2,
    }
    strict = gtmsim.simulate(gtmsim.load_scenario(two_channel_market(**sdr)))
    lenient = gtmsim.simulate(
        gtmsim.load_scenario(
            two_channel_market(
                **sdr,
                **{
                    "incentives.sales.sdr_paid_on": "meetings",
                    "incentives.sales.meetings_pay_acceptance_drop": 0.2,
                },
            )
        )
    )
    assert lenient.metrics["mql_acceptance_rate"] > strict.metrics["mql_acceptance_rate"] + 0.1
    assert lenient.metrics["win_rate"] <= strict.metrics["win_rate"] + 0.05


def test_the_joint_team_is_paid_by_both_sides():
    sc = gtmsim.load_scenario(
        BASE,
        {
            "budget.joint_team.from_ae_headcount": 4,
            "budget.joint_team.from_marketing_usd_per_week": 10_000,
            "simulation.horizon_days": 14,
        },
    )
    sdr, ae = staffing(sc)
    hired = int((4 * sc.sales.ae.cost_usd_per_year + 52 * 10_000) // sc.sales.sdr.cost_usd_per_year)
    assert ae.headcount == sc.sales.ae.headcount - 4
    assert sdr.headcount == sc.sales.sdr.headcount + hired
    world = World(sc)
    total = sum(c.spend_usd_per_week for c in sc.market.channels.values())
    assert world.marketing.spend_usd_per_week.sum() == pytest.approx(total - 10_000)
    assert len(world.ae.reps) == ae.headcount


@pytest.mark.parametrize(
    "overrides, expect",
    [
        ({"budget.joint_team.from_ae_headcount": 40}, "must leave some of the 40 AEs"),
        ({"budget.embedded_marketers.segments": ["mid"]}, "unknown segment(s) ['mid']"),
        ({"budget.embedded_marketers.headcount": 100}, "from a programme budget of"),
        (
            {
                "incentives.marketing.kpi": "mqls",
                "incentives.marketing.threshold_step_per_week": 0.01,
            },
            "set target_per_quarter",
        ),
    ],
)
def test_org_settings_that_contradict_each_other(overrides, expect):
    with pytest.raises(gtmsim.ScenarioError) as info:
        gtmsim.load_scenario(BASE, overrides)
    assert expect in str(info.value)


def test_org_state_is_recorded_weekly():
    result = gtmsim.simulate(gtmsim.load_scenario(two_channel_market()))
    weeks = result.weekly["bookings_usd"].size
    for name in (
        "mql_threshold",
        "scoring_noise_sd",
        "marketing_budget_usd_per_week",
        "missed_quarters",
        "trust_ae_mean",
        "ae_prospecting_share",
        "deals_won_inbound",
        "marketing_spend_usd.channel.cheap",
    ):
        series = result.weekly[name]
        assert series.shape == (weeks,) and not np.isnan(series).any(), name
    assert result.weekly["deals_won_inbound"].sum() == result.metrics["deals_won_inbound"]
    assert result.weekly["marketing_spend_usd.channel.cheap"].sum() == pytest.approx(
        result.metrics["marketing_spend.channel.cheap"]
    )


def test_no_code_knows_a_preset_by_name():
    presets = [p.stem for p in (ROOT / "scenarios").glob("*.toml")]
    assert len(presets) >= 5
    # a preset's name as a word in code, docstrings or strings ("aligned" as plain English
    # in a comment about table columns is not a reference, so look for names as names)
    names = "|".join(re.escape(name) for name in presets)
    pattern = re.compile(rf"[\"'`/]({names})(\.toml)?[\"'`]|\b({names})\b(?=\s*[=:(\[])")
    hits = [
        f"{path.relative_to(ROOT)}:{i}"
        for path in (ROOT / "gtmsim").rglob("*.py")
        for i, line in enumerate(path.read_text().splitlines(), 1)
        if pattern.search(line)
    ]
    assert not hits


def test_the_last_rep_of_a_segment_stays():
    segment_teams = {
        "handoff.route": "segment",
        "simulation.horizon_days": 730,
        "sales.sdr.headcount_by_segment": {"smb": 8, "midmarket": 3, "enterprise": 1},
        "sales.ae.headcount_by_segment": {"smb": 28, "midmarket": 10, "enterprise": 2},
    }
    world = World(gtmsim.load_scenario(BASE, segment_teams)).run()  # used to divide by zero
    assert world.org.staffing.left["ae"] > 0
    assert all(world.ae.by_segment) and all(world.sdr.by_segment)


ABM = {
    "simulation.horizon_days": 150,
    "budget.embedded_marketers.segments": ["enterprise", "midmarket"],
    "budget.embedded_marketers.accounts_per_marketer": 5,
    "budget.embedded_marketers.consensus_share": 0.8,
}


def test_embedded_marketers_cover_more_accounts_the_more_they_are():
    covered = []
    for headcount in (0, 1, 2, 4):
        sc = gtmsim.load_scenario(BASE, {**ABM, "budget.embedded_marketers.headcount": headcount})
        covered.append(gtmsim.simulate(sc).metrics["abm_covered_opportunities"])
    assert covered[0] == 0
    assert covered[1] < covered[2] < covered[3]


def test_embedded_marketers_never_work_more_deals_than_they_have_room_for():
    world = World(gtmsim.load_scenario(BASE, {**ABM, "budget.embedded_marketers.headcount": 2}))
    marketers = world.account_marketing
    most_open = []
    release = marketers.release

    def checked_release(card):
        release(card)
        most_open.append(10 - marketers.free)

    marketers.release = checked_release
    world.run()
    assert marketers.covered > 10  # places were used again after deals closed
    assert max(most_open) <= 10 and marketers.free >= 0
    covered = [c for r in world.ae.reps for _, _, c, _ in r.deals if c is not None and c.covered]
    assert len(covered) == 10 - marketers.free  # open covered deals hold the other places


def test_account_insight_reaches_only_the_deals_of_covered_accounts():
    # nobody embedded, or embedded only where no opportunity arises: the share changes nothing
    for extra in (
        {"budget.embedded_marketers.headcount": 0},
        {"budget.embedded_marketers.headcount": 2, "budget.embedded_marketers.segments": []},
    ):
        helped = gtmsim.simulate(gtmsim.load_scenario(BASE, {**ABM, **extra}))
        plain = gtmsim.simulate(
            gtmsim.load_scenario(
                BASE, {**ABM, **extra, "budget.embedded_marketers.consensus_share": 0.0}
            )
        )
        assert json.dumps(helped.metrics) == json.dumps(plain.metrics)  # nan equals nan here
    # with marketers at work, covered deals win more often than before
    staffed = {**ABM, "budget.embedded_marketers.headcount": 4}
    helped = gtmsim.simulate(gtmsim.load_scenario(BASE, staffed)).metrics
    plain = gtmsim.simulate(
        gtmsim.load_scenario(BASE, {**staffed, "budget.embedded_marketers.consensus_share": 0.0})
    ).metrics
    assert helped["abm_covered_opportunities"] > 0
    assert helped["lost_no_decision"] < plain["lost_no_decision"]


def test_coverage_is_decided_when_an_opportunity_opens_in_a_key_segment():
    world = World(gtmsim.load_scenario(BASE, {**ABM, "budget.embedded_marketers.headcount": 1}))
    marketers = world.account_marketing

    class Deal:
        covered = False

        def __init__(self, segment):
            self.segment = segment

    smb, enterprise = world.segments.index("smb"), world.segments.index("enterprise")
    assert not marketers.key_segment[smb] and marketers.key_segment[enterprise]
    deals = [Deal(enterprise) for _ in range(6)]
    small = Deal(smb)
    marketers.cover(small)
    for d in deals:
        marketers.cover(d)
    assert not small.covered
    assert [d.covered for d in deals] == [True] * 5 + [False]  # room for five
    marketers.release(deals[0])
    marketers.release(small)  # not covered: frees nothing
    assert marketers.free == 1


def test_new_positions_go_to_the_segment_shortest_of_its_headcount_in_any_key_order():
    # written in another order than the market's segments (smb, midmarket, enterprise)
    teams = {
        "handoff.route": "segment",
        "simulation.horizon_days": 30,
        "sales.sdr.headcount_by_segment": {"smb": 4, "midmarket": 4, "enterprise": 4},
        "sales.ae.headcount_by_segment": {"enterprise": 10, "smb": 20, "midmarket": 10},
    }
    world = World(gtmsim.load_scenario(BASE, teams))
    world.env.run(until=1)
    for _ in range(8):
        world.ae.hire(0.0)
    sizes = {s: len(reps) for s, reps in zip(world.segments, world.ae.by_segment, strict=True)}
    assert sizes == {"smb": 24, "midmarket": 12, "enterprise": 12}  # 1.2 times each


def test_a_budget_from_bookings_still_pays_for_the_embedded_marketers():
    embedded = {
        "simulation.horizon_days": 371,
        "budget.rule": "share_of_bookings",
        "budget.bookings_share": 0.1,
        "budget.embedded_marketers.headcount": 2,
        "budget.embedded_marketers.cost_usd_per_year": 150_000,
        "budget.embedded_marketers.segments": ["enterprise"],
    }
    world = World(gtmsim.load_scenario(BASE, embedded)).run()
    year_usd = sum(world.org.quarters.bookings_usd[-4:])
    marketers_per_week = 2 * 150_000 / 52.0
    # the rule sets the whole marketing budget; the marketers come out of it, as at the start
    assert world.org.programmes.total_usd_per_week == pytest.approx(
        0.1 * year_usd / 52.0 - marketers_per_week
    )
