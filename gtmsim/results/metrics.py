"""Metrics: pure functions from a finished world's records to a flat mapping of numbers.

:data:`METRICS` documents every headline metric (name -> meaning and unit);
:data:`METRIC_RANGES` says which are shares (shown as percents), counts or never
negative.
Funnel counts also appear per channel and per segment as
``<metric>.channel.<name>`` and ``<metric>.segment.<name>``; each breakdown
counts the same leads as its total and adds up to it (``accepted`` counts
marketing leads, so its breakdowns have no ``outbound`` channel; the others
include reps' self-sourced prospects under ``outbound``). Rates that have no
denominator in a run are ``nan``.
"""

from __future__ import annotations

import math

import numpy as np

from gtmsim.results.recorder import (
    ACCEPTED,
    LEAD,
    MQL,
    OPPORTUNITY,
    RESPONSE_BIN_EDGES_HOURS,
    RESPONSE_BIN_LABELS,
    WON,
)

METRICS: dict[str, str] = {
    "leads_created": "all leads: marketing inquiries (leads_from_before_run included) plus "
    "reps' self-sourced prospects (count)",
    "inquiries": "leads from marketing channels (count); with returning buyers, also those of "
    "the year before the run who come back during it (leads_from_before_run)",
    "leads_from_before_run": "inquiries of the year before the run that come back during it "
    "as returning buyers; counted in leads_created and inquiries (count)",
    "prospects_created": "self-sourced (outbound) first meetings booked by prospecting reps (count)",
    "mqls": "times a lead became marketing-qualified; nurture can requalify a lead (count)",
    "mqls_worked": "MQLs that got at least one contact attempt (count)",
    "accepted": "marketing leads accepted by sales: MQLs after a conversation, and returning "
    "buyers (count)",
    "mqls_accepted": "MQLs accepted by sales after a conversation (count)",
    "buyers_returned": "marketing leads nobody in sales was working on that came back and "
    "booked a meeting themselves when their buying window opened (count)",
    "opportunities": "accepted leads and prospects that passed discovery (count)",
    "opportunities_inbound": "opportunities from marketing leads (count)",
    "deals_won": "deals won (count)",
    "opportunities_outbound": "opportunities from reps' self-sourced prospects (count)",
    "deals_won_inbound": "deals won from marketing leads (count)",
    "deals_won_outbound": "deals won from reps' self-sourced prospects (count)",
    "bookings": "first-year contract value of deals won, USD",
    "bookings_inbound_usd": "bookings from marketing leads, USD",
    "bookings_outbound_usd": "bookings from reps' self-sourced prospects, USD",
    "pipeline_created_usd": "deal value of opportunities created, USD",
    "marketing_spend": "marketing programme spend over the run, USD",
    "marketing_spend_per_bookings": "marketing spend / bookings (USD per USD)",
    "lead_to_customer_rate": "inbound deals won / inquiries",
    "mql_to_customer_rate": "inbound deals won (returning buyers' included) / MQLs",
    "mql_acceptance_rate": "MQLs accepted / MQLs that sales reached and judged (accepted or rejected)",
    "mqls_never_followed_up_share": "share of MQLs with no contact attempt by the end of the run",
    "first_response_hours_median": "median delay from MQL to first attempt, hours (attempted MQLs)",
    "first_response_hours_mean": "mean delay from MQL to first attempt, hours (attempted MQLs)",
    "sla_compliance_share": "share of first attempts within the SLA (nan without an SLA)",
    "win_rate": "opportunities won / opportunities closed (won or lost)",
    "cycle_days_median": "median days from opportunity to won",
    "cycle_days_mean": "mean days from opportunity to won",
    "deal_size_usd_mean": "mean size of won deals, USD",
    "lost_at_discovery": "accepted leads and prospects lost at the discovery meeting, before "
    "they became opportunities (count)",
    "lost_competitor": "opportunities lost to a competitor (count)",
    "lost_no_decision": "opportunities lost to no decision: the account did not buy, out of "
    "market or because its buying group did not agree (count)",
    "no_decision_share": "share of lost opportunities lost to no decision",
    "abm_covered_opportunities": "opportunities worked by an embedded marketer (count)",
    "ae_quota_attainment_median": "median AE bookings / quota pro-rated over the days they sold",
    "ae_quota_missed_share": "share of AEs below their quota, pro-rated over the days they sold "
    "(AEs who sold less than a quarter are left out)",
    "ae_selling_share": "AE working hours on deal meetings and lead follow-up",
    "ae_prospecting_share_non_admin": "AE working hours prospecting / hours not on admin",
    "sdr_follow_up_share": "SDR working hours on marketing-lead follow-up",
    "trust_ae_mean": "AEs' mean trust in marketing leads at the end, 0-100%",
    "trust_sdr_mean": "SDRs' mean trust in marketing leads at the end (nan without SDRs), 0-100%",
    "lead_to_opportunity_rate": "inbound opportunities / inquiries",
    "bookings_growth_yoy": "bookings of the last 52 weeks / the 52 weeks before, minus 1 "
    "(nan for runs shorter than 104 weeks)",
    "marketing_cost_usd": "programme spend plus embedded marketers' cost over the run, USD",
    "coordination_cost_usd": "fixed cost of the joint sales and marketing process over the run "
    "(feedback.cost_usd_per_year), USD",
    "sales_cost_usd": "loaded cost of the AEs and SDRs (joint team included) over the run, "
    "from the day each is paid (hires still ramping up included), USD",
    "gtm_cost_per_bookings": "sales, marketing and coordination cost / bookings (USD per USD)",
    "bookings_net_of_gtm_cost_usd": "bookings minus sales, marketing and coordination cost, USD",
    "quarters_missed": "13-week quarters in which sales booked less than the AEs' quotas (count)",
    "ae_hired": "AEs who started selling during the run: new positions and refilled seats (count)",
    "ae_left": "AEs who left during the run (count)",
    "sdr_hired": "SDRs who started during the run to refill seats (count)",
    "sdr_left": "SDRs who left during the run (count)",
    "deals_pulled_in": "deals closed at a discount in a quarter-end push instead of slipping "
    "into the next quarter (count)",
    "quarter_end_discounts_usd": "value given away in quarter-end discounts, USD",
    "ae_headcount_end": "AEs selling at the end of the run (count)",
    "reviews_held": "joint sales and marketing reviews held (count)",
    "leaders_replaced": "times leadership was replaced after missed quarters (count)",
    "mql_threshold_end": "marketing's MQL threshold at the end",
    "scoring_noise_sd_end": "scoring noise (quality of the shared lead definition) at the end",
    "marketing_budget_usd_per_week_end": "programme budget per week at the end, USD",
}
for _team in ("ae", "sdr"):
    for _act in ("selling", "follow_up", "prospecting", "internal_meetings", "admin"):
        METRICS[f"{_team}_hours_{_act}"] = (
            f"{_team.upper()} hours on {_act.replace('_', ' ')}, all reps"
        )
for _label in RESPONSE_BIN_LABELS:
    METRICS[f"first_contact_rate.{_label}"] = (
        f"share of first attempts made {_label} after the MQL that reached the lead"
    )
    METRICS[f"qualify_rate.{_label}"] = (
        f"share of MQLs first attempted {_label} after the MQL that sales accepted"
    )
METRICS["qualify_rate.<1h"] = "share of MQLs first attempted within an hour that sales accepted"

# Which way is better for each metric of METRICS: "higher", "lower", or "neither" for
# volumes, inputs and levels whose best value depends on the rest of the design (more
# MQLs is not better by itself; more spend is a choice, not an outcome).
_HIGHER = [
    "leads_created",
    "inquiries",
    "prospects_created",
    "mqls_worked",
    "accepted",
    "mqls_accepted",
    "opportunities",
    "opportunities_inbound",
    "opportunities_outbound",
    "deals_won",
    "deals_won_inbound",
    "deals_won_outbound",
    "bookings",
    "bookings_inbound_usd",
    "bookings_outbound_usd",
    "pipeline_created_usd",
    "lead_to_customer_rate",
    "mql_to_customer_rate",
    "mql_acceptance_rate",
    "sla_compliance_share",
    "win_rate",
    "deal_size_usd_mean",
    "ae_quota_attainment_median",
    "ae_selling_share",
    "trust_ae_mean",
    "trust_sdr_mean",
    "lead_to_opportunity_rate",
    "bookings_growth_yoy",
    "bookings_net_of_gtm_cost_usd",
]
_LOWER = [
    "marketing_spend_per_bookings",
    "mqls_never_followed_up_share",
    "first_response_hours_median",
    "first_response_hours_mean",
    "cycle_days_median",
    "cycle_days_mean",
    "no_decision_share",
    "ae_quota_missed_share",
    "marketing_cost_usd",
    "coordination_cost_usd",
    "sales_cost_usd",
    "gtm_cost_per_bookings",
    "quarters_missed",
    "ae_left",
    "sdr_left",
    "deals_pulled_in",
    "quarter_end_discounts_usd",
    "leaders_replaced",
    "scoring_noise_sd_end",
]
BETTER: dict[str, str] = {
    name: "higher"
    if name in _HIGHER or name.startswith(("first_contact_rate.", "qualify_rate."))
    else "lower"
    if name in _LOWER
    else "neither"
    for name in METRICS
}
"""Which way is better for every metric of :data:`METRICS`: ``"higher"``, ``"lower"``
or ``"neither"``; :func:`better` also answers for channel and segment breakdowns."""

DIRECTIONS = ("higher", "lower", "neither")


HEADLINE_METRICS = (
    "inquiries",
    "mqls",
    "mqls_never_followed_up_share",
    "first_response_hours_median",
    "accepted",
    "opportunities",
    "win_rate",
    "deals_won",
    "bookings",
    "cycle_days_median",
    "marketing_spend",
    "marketing_spend_per_bookings",
    "ae_quota_missed_share",
    "ae_selling_share",
)
"""The metrics ``gtmsim run`` and the notebook display of a run or ensemble show."""


def is_share(name: str) -> bool:
    """Whether a metric is shown as a percent (23.4%, differences in percentage points):
    its range (:func:`metric_range`) is one of :data:`PERCENT_RANGES`."""
    return metric_range(name) in PERCENT_RANGES


def unit(name: str) -> str:
    """A metric's unit for showing it: ``"USD"`` for money (its meaning in
    :data:`METRICS` ends in ", USD"; a channel or segment breakdown follows its
    metric), ``""`` for everything else (counts, days, shares, USD per USD)."""
    base = name.partition(".channel.")[0].partition(".segment.")[0]
    return "USD" if METRICS.get(base, "").endswith(", USD") else ""


def better(name: str) -> str:
    """Which way is better for a metric: ``"higher"``, ``"lower"`` or ``"neither"``.

    A channel or segment breakdown (``deals_won.channel.referral``) goes the way of
    its metric.

    Raises
    ------
    KeyError
        For a name that is not a metric (see :func:`unknown_metrics`).
    """
    for base in (name, name.partition(".channel.")[0], name.partition(".segment.")[0]):
        if base in BETTER:
            return BETTER[base]
    raise KeyError(f"{name!r} is not a metric; `gtmsim metrics` lists them")


def seeks_higher(name: str, maximize: bool | None = None) -> bool:
    """Whether a search for the best value of a metric looks for its highest mean.

    ``maximize`` as given wins; ``None`` follows :func:`better`, and is an error for a
    metric where neither way is better.

    Raises
    ------
    ValueError
        ``maximize`` is None and neither way is better for ``name``.
    """
    if maximize is not None:
        return bool(maximize)
    direction = better(name)
    if direction == "neither":
        raise ValueError(
            f"neither a higher nor a lower {name} is better by itself: say which is wanted "
            "(maximize=True or False; on the command line --maximize or --minimize)"
        )
    return direction == "higher"


def improves(name: str, design, baseline):
    """Where ``design`` is better than ``baseline`` in ``name``'s direction (arrays or
    numbers, compared elementwise); ``None`` for a metric where neither way is better."""
    direction = better(name)
    if direction == "neither":
        return None
    return np.greater(design, baseline) if direction == "higher" else np.less(design, baseline)


FUNNEL_METRICS = ("leads_created", "mqls", "accepted", "opportunities", "deals_won")
REP_ACTIVITIES = ("selling", "follow_up", "prospecting", "internal_meetings", "admin")

# The range each metric can take, for confidence intervals that stay in it (see
# gtmsim.results.summary.mean_interval), and so how it is shown: "share" in [0, 1] and
# "rate" (not below 0, can pass 1: quota attainment, wins per MQL with returning buyers)
# as percents; "count" (counts and USD totals) and "non_negative" (medians, means, USD
# per USD) not below 0; "change" (a growth rate) any value, as a percent. A metric not
# named here can take any value (a difference, a net figure, a level).
METRIC_RANGES: dict[str, str] = {
    **dict.fromkeys(
        (
            "mqls_never_followed_up_share",
            "sla_compliance_share",
            "win_rate",
            "mql_acceptance_rate",
            "lead_to_customer_rate",
            "no_decision_share",
            "ae_quota_missed_share",
            "ae_selling_share",
            "ae_prospecting_share_non_admin",
            "sdr_follow_up_share",
            "trust_ae_mean",
            "trust_sdr_mean",
            "qualify_rate.<1h",
            *(f"{kind}.{label}" for kind in ("first_contact_rate", "qualify_rate")
              for label in RESPONSE_BIN_LABELS),
        ),
        "share",
    ),
    **dict.fromkeys(
        (
            "leads_created", "inquiries", "prospects_created", "mqls", "mqls_worked",
            "accepted", "mqls_accepted", "buyers_returned", "opportunities",
            "opportunities_inbound", "opportunities_outbound", "deals_won", "deals_won_inbound",
            "deals_won_outbound", "bookings", "bookings_inbound_usd", "bookings_outbound_usd",
            "leads_from_before_run", "pipeline_created_usd", "marketing_spend",
            "lost_at_discovery", "lost_competitor", "lost_no_decision",
            "abm_covered_opportunities", "marketing_cost_usd", "coordination_cost_usd",
            "sales_cost_usd", "quarters_missed", "ae_hired", "ae_left", "sdr_hired",
            "sdr_left", "deals_pulled_in", "quarter_end_discounts_usd", "ae_headcount_end",
            "reviews_held", "leaders_replaced",
            *(f"{team}_hours_{act}" for team in ("ae", "sdr") for act in REP_ACTIVITIES),
        ),
        "count",
    ),
    **dict.fromkeys(
        ("mql_to_customer_rate", "lead_to_opportunity_rate", "ae_quota_attainment_median"),
        "rate",
    ),
    **dict.fromkeys(
        (
            "marketing_spend_per_bookings", "first_response_hours_median",
            "first_response_hours_mean", "cycle_days_median", "cycle_days_mean",
            "deal_size_usd_mean", "gtm_cost_per_bookings", "scoring_noise_sd_end",
            "marketing_budget_usd_per_week_end",
        ),
        "non_negative",
    ),
    "bookings_growth_yoy": "change",
}  # fmt: skip

PERCENT_RANGES = ("share", "rate", "change")
"""The ranges of :data:`METRIC_RANGES` whose metrics are shown as percents (see :func:`is_share`)."""


def metric_range(name: str) -> str | None:
    """The range of a metric (see :data:`METRIC_RANGES`); a breakdown by channel or
    segment (``deals_won.channel.referral``) has its metric's; None: any value."""
    base = name.partition(".channel.")[0].partition(".segment.")[0]
    return METRIC_RANGES.get(name, METRIC_RANGES.get(base))


def unknown_metrics(names) -> list[str]:
    """The names that are not metrics: neither in :data:`METRICS` nor one of them broken
    down by channel or segment (``deals_won.channel.referral``)."""
    return [
        n
        for n in names
        if n not in METRICS
        and n.partition(".channel.")[0] not in METRICS
        and n.partition(".segment.")[0] not in METRICS
    ]


def ratio(a: float, b: float) -> float:
    """a / b, or nan when b is 0."""
    return float(a) / float(b) if b else float("nan")


def response_bins(hours) -> np.ndarray:
    """Speed-to-lead bin (see ``RESPONSE_BIN_LABELS``) of each first-response delay."""
    return np.searchsorted(RESPONSE_BIN_EDGES_HOURS[1:-1], np.asarray(hours, float), side="right")


def weekly_first_response_hours_mean(rec) -> np.ndarray:
    """Mean first-response delay of the first attempts made in each week (nan: none)."""
    week = np.minimum(np.asarray(rec.first_response_day) // 7, rec.n_weeks - 1).astype(int)
    total = np.bincount(week, weights=rec.first_response_hours, minlength=rec.n_weeks)
    n = np.bincount(week, minlength=rec.n_weeks)
    with np.errstate(invalid="ignore", divide="ignore"):
        return total / n


def speed_to_lead_table(rec) -> dict[str, np.ndarray]:
    """Per first-response bin: first attempts, how many reached the lead, MQLs finished, accepted."""
    nb = len(RESPONSE_BIN_LABELS)
    first = response_bins(rec.first_response_hours)
    resolved = response_bins(rec.resolved_first_response_hours)
    return {
        "first_attempts": np.bincount(first, minlength=nb),
        "first_contacts": np.bincount(first, weights=rec.first_attempt_reached, minlength=nb),
        "resolved": np.bincount(resolved, minlength=nb),
        "qualified": np.bincount(resolved, weights=rec.resolved_accepted, minlength=nb),
    }


def rep_table(team) -> dict[str, np.ndarray]:
    """Per-rep hours by activity, trust and bookings of one team."""
    spec = team.spec
    reps = [*team.reps, *team.former]
    productive = {
        "selling": np.array([r.selling_hours for r in reps]),
        "follow_up": np.array([r.follow_up_hours for r in reps]),
        "prospecting": np.array([r.prospecting_hours for r in reps]),
    }
    reviews = np.array([r.review_hours for r in reps])
    worked = (sum(productive.values()) + reviews) / team.ps if reps else np.zeros(0)
    return {
        "name": np.array([r.name for r in reps], dtype=str),
        **{f"hours_{k}": v for k, v in productive.items()},
        "hours_internal_meetings": worked * spec.internal_meetings_share + reviews,
        "hours_admin": worked * spec.admin_share,
        "trust": np.array([r.trust for r in reps]),
        "bookings_usd": np.array([r.bookings_usd for r in reps]),
        "joined_day": np.array([r.joined_day for r in reps], float),
        "left_day": np.array([r.left_day if r.left_day < math.inf else math.nan for r in reps]),
    }


def quota_attainment(
    ae: dict[str, np.ndarray], horizon_days: float, quota_per_year: float, quarter_days: float
) -> np.ndarray:
    """Each AE's bookings / quota pro-rated over the days they sold, for the AEs the quota
    metrics count (those who sold at least a quarter, or the whole of a shorter run).

    ``ae`` is the AE team's :func:`rep_table`; empty without a quota.
    """
    days = np.fmin(ae["left_day"], horizon_days) - ae["joined_day"]
    counted = days >= min(quarter_days, horizon_days)
    if not (counted.any() and quota_per_year):
        return np.zeros(0)
    return ae["bookings_usd"][counted] / (quota_per_year * days[counted] / 365.0)


def compute_metrics(world) -> dict[str, float]:
    """Every metric of a finished :class:`gtmsim.model.world.World`."""
    rec, store, sc = world.rec, world.store, world.scenario
    states = rec.states
    n = store.n
    state = store.state[:n]
    outbound = world.marketing.outbound_channel
    funnel = rec.funnel
    m: dict[str, float] = {}

    m["leads_created"] = n
    m["inquiries"] = int(funnel[LEAD, :outbound].sum())
    m["leads_from_before_run"] = int((store.created_day[:n] < 0).sum())
    m["prospects_created"] = int(funnel[LEAD, outbound].sum())
    m["mqls"] = int(funnel[MQL].sum())
    m["mqls_worked"] = len(rec.first_response_hours)
    m["accepted"] = int(funnel[ACCEPTED, :outbound].sum())
    m["mqls_accepted"] = rec.mqls_accepted
    accepted = states.code("accepted")
    m["buyers_returned"] = int(sum(rec.transitions[s][accepted] for s in states.idle))
    m["opportunities"] = int(funnel[OPPORTUNITY].sum())
    m["opportunities_inbound"] = int(funnel[OPPORTUNITY, :outbound].sum())
    m["opportunities_outbound"] = int(funnel[OPPORTUNITY, outbound].sum())
    m["deals_won"] = int(funnel[WON].sum())
    m["deals_won_inbound"] = int(funnel[WON, :outbound].sum())
    m["deals_won_outbound"] = int(funnel[WON, outbound].sum())
    m["bookings"] = float(sum(rec.bookings_by_channel_usd))
    m["bookings_inbound_usd"] = float(sum(rec.bookings_by_channel_usd[:outbound]))
    m["bookings_outbound_usd"] = float(rec.bookings_by_channel_usd[outbound])
    m["pipeline_created_usd"] = float(sum(rec.weekly_pipeline_created_usd))
    m["marketing_spend"] = float(rec.spend_by_channel_usd.sum())
    m["marketing_spend_per_bookings"] = ratio(m["marketing_spend"], m["bookings"])
    m["lead_to_customer_rate"] = ratio(m["deals_won_inbound"], m["inquiries"])
    m["mql_to_customer_rate"] = ratio(m["deals_won_inbound"], m["mqls"])
    m["mql_acceptance_rate"] = ratio(m["mqls_accepted"], rec.mqls_judged)
    m["mqls_never_followed_up_share"] = ratio(m["mqls"] - m["mqls_worked"], m["mqls"])

    fr = np.asarray(rec.first_response_hours)
    m["first_response_hours_median"] = float(np.median(fr)) if fr.size else float("nan")
    m["first_response_hours_mean"] = float(fr.mean()) if fr.size else float("nan")
    sla = sc.handoff.sla_hours
    # a call planned for the deadline itself can land a hair after it in floating point
    m["sla_compliance_share"] = (
        float((fr <= sla * (1.0 + 1e-9)).mean()) if sla and fr.size else float("nan")
    )

    was_opp = ~np.isnan(store.opportunity_day[:n])
    won = (state == states.code("won")) & was_opp
    lost_any = (state == states.code("lost_competitor")) | (
        state == states.code("lost_no_decision")
    )
    lost = lost_any & was_opp
    m["win_rate"] = ratio(won.sum(), won.sum() + lost.sum())
    cycle = np.asarray(rec.cycle_days)
    m["cycle_days_median"] = float(np.median(cycle)) if cycle.size else float("nan")
    m["cycle_days_mean"] = float(cycle.mean()) if cycle.size else float("nan")
    m["deal_size_usd_mean"] = ratio(m["bookings"], m["deals_won"])
    m["lost_at_discovery"] = int((lost_any & ~was_opp).sum())
    m["lost_competitor"] = int(((state == states.code("lost_competitor")) & was_opp).sum())
    m["lost_no_decision"] = int(((state == states.code("lost_no_decision")) & was_opp).sum())
    m["abm_covered_opportunities"] = world.account_marketing.covered
    m["no_decision_share"] = ratio(
        m["lost_no_decision"], m["lost_competitor"] + m["lost_no_decision"]
    )

    ae = rep_table(world.ae)
    attainment = quota_attainment(
        ae, world.horizon, sc.sales.ae.quota_usd_per_year, rec.quarter_days
    )
    known = attainment.size > 0
    m["ae_quota_attainment_median"] = float(np.median(attainment)) if known else float("nan")
    m["ae_quota_missed_share"] = float((attainment < 1.0).mean()) if known else float("nan")
    for key, table in (("ae", ae), ("sdr", rep_table(world.sdr))):
        for act in REP_ACTIVITIES:
            m[f"{key}_hours_{act}"] = float(table[f"hours_{act}"].sum())
        m[f"trust_{key}_mean"] = (
            float(table["trust"].mean()) if table["trust"].size else float("nan")
        )
    ae_total = sum(m[f"ae_hours_{a}"] for a in REP_ACTIVITIES)
    m["ae_selling_share"] = ratio(m["ae_hours_selling"] + m["ae_hours_follow_up"], ae_total)
    m["ae_prospecting_share_non_admin"] = ratio(
        m["ae_hours_prospecting"], ae_total - m["ae_hours_admin"]
    )
    sdr_total = sum(m[f"sdr_hours_{a}"] for a in REP_ACTIVITIES)
    m["sdr_follow_up_share"] = ratio(m["sdr_hours_follow_up"], sdr_total)
    m.update(org_metrics(world, m))

    stl = speed_to_lead_table(rec)
    for i, label in enumerate(RESPONSE_BIN_LABELS):
        m[f"first_contact_rate.{label}"] = ratio(stl["first_contacts"][i], stl["first_attempts"][i])
        m[f"qualify_rate.{label}"] = ratio(stl["qualified"][i], stl["resolved"][i])
    within_hour = slice(0, RESPONSE_BIN_EDGES_HOURS.index(1.0))
    m["qualify_rate.<1h"] = ratio(
        stl["qualified"][within_hour].sum(), stl["resolved"][within_hour].sum()
    )

    for stage, name in zip((LEAD, MQL, ACCEPTED, OPPORTUNITY, WON), FUNNEL_METRICS, strict=True):
        # a breakdown counts the leads its total counts: accepted counts marketing leads only
        channels = outbound if stage == ACCEPTED else len(world.channels)
        for c, ch in enumerate(world.channels[:channels]):
            m[f"{name}.channel.{ch}"] = int(funnel[stage, c].sum())
        for s, seg in enumerate(world.segments):
            m[f"{name}.segment.{seg}"] = int(funnel[stage, :channels, s].sum())
    for c, ch in enumerate(world.channels):
        m[f"bookings.channel.{ch}"] = float(rec.bookings_by_channel_usd[c])
        if c < outbound:
            m[f"marketing_spend.channel.{ch}"] = float(rec.spend_by_channel_usd[c])
    return {k: (float(v) if not isinstance(v, int) else v) for k, v in m.items()}


def org_metrics(world, m: dict[str, float]) -> dict[str, float]:
    """Costs, growth and the organisation's dynamics (M7-M9)."""
    sc, org, rec = world.scenario, world.org, world.rec
    years = world.horizon / 365.0
    embedded = sc.budget.embedded_marketers
    out = {
        "lead_to_opportunity_rate": ratio(m["opportunities_inbound"], m["inquiries"]),
        "marketing_cost_usd": m["marketing_spend"]
        + embedded.headcount * embedded.cost_usd_per_year * years,
        "coordination_cost_usd": sc.feedback.cost_usd_per_year * years,
        "sales_cost_usd": sum(
            t.spec.cost_usd_per_year
            * max(0.0, min(world.horizon, r.left_day) - r.paid_from_day)
            / 365.0
            for t in (world.ae, world.sdr)
            for r in (*t.reps, *t.former)
        )
        + sum(  # hires signed and paid, still ramping up at the end
            org.staffing.teams[key].spec.cost_usd_per_year
            * max(0.0, world.horizon - paid_from)
            / 365.0
            for _, _, key, paid_from, _ in org.staffing.pending
        ),
        "quarters_missed": org.quarters.missed,
        "ae_hired": org.staffing.hired["ae"],
        "ae_left": org.staffing.left["ae"],
        "sdr_hired": org.staffing.hired["sdr"],
        "sdr_left": org.staffing.left["sdr"],
        "deals_pulled_in": org.quarters.pulled_in,
        "quarter_end_discounts_usd": org.quarters.discounts_usd,
        "ae_headcount_end": len(world.ae.reps),
        "reviews_held": org.reviews.held,
        "leaders_replaced": org.leaders_replaced,
        "mql_threshold_end": world.marketing.mql_threshold,
        "scoring_noise_sd_end": world.marketing.noise_sd,
        "marketing_budget_usd_per_week_end": float(world.marketing.spend_usd_per_week.sum()),
    }
    gtm_cost = out["marketing_cost_usd"] + out["sales_cost_usd"] + out["coordination_cost_usd"]
    out["bookings_net_of_gtm_cost_usd"] = m["bookings"] - gtm_cost
    out["gtm_cost_per_bookings"] = ratio(gtm_cost, m["bookings"])
    weeks = int(world.horizon // 7)
    weekly = np.asarray(rec.weekly_bookings_usd[:weeks])
    out["bookings_growth_yoy"] = (
        ratio(weekly[-52:].sum(), weekly[-104:-52].sum()) - 1.0 if weeks >= 104 else float("nan")
    )
    return out


def final_state_counts(world) -> dict[str, int]:
    """Leads by final state; sums to ``leads_created``."""
    counts = world.store.state_counts()
    return {name: int(counts[code]) for code, name in enumerate(world.rec.states.names)}
