"""The scenario schema: every knob of the model, with its type, unit, range and meaning.

A scenario is validated, frozen data. Units are in the field names (``_hours``,
``_days``, ``_usd``, ``_per_week``, ``_share``, ``_probability``). Durations and
sizes are distribution specs (:mod:`gtmsim.scenario.dists`); a bare number is a
constant. Defaults switch behaviour off, so that a scenario which sets only the
market reduces to a textbook queue; the shipped files in ``scenarios/`` set
every number and cite its source.

Mechanism groups (see DESIGN.md): M1 ``market``, M2 ``market.buying_window``,
M3 ``marketing``, M4 ``handoff``, M5 ``sales``, M6 ``deals``, M7 ``incentives``,
M8 ``feedback``, M9 ``budget`` and ``leadership``. An org design is a choice of
settings in M3-M9 over one market (M1, M2, M6).
"""

from __future__ import annotations

import datetime
import hashlib
import json
from typing import Annotated, Any, Literal, NamedTuple

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    Field,
    PrivateAttr,
    field_validator,
    model_validator,
)

from gtmsim.scenario.dists import (
    Beta,
    Constant,
    Dist,
    Exponential,
    Histogram,
    within,
)
from gtmsim.scenario.keys import dotted_key

_Strict = {"frozen": True, "extra": "forbid", "allow_inf_nan": False, "strict": True}

# Upper bounds: far beyond any real go-to-market organisation, low enough that
# no count, sum or product of settings overflows in a ten-year run (1e308
# passes ">= 0" and ends in inf metrics or a crash).
MAX_USD = 1e9
"""A deal, a quota: one billion USD."""
MAX_USD_PER_PERSON_YEAR = 1e7
"""The loaded cost of one person for a year: ten million USD."""
MAX_USD_PER_WEEK = 1e9
"""Weekly programme spend (52 billion USD a year)."""
MAX_LEADS_PER_WEEK = 1e6
"""Leads per week from one channel."""
MAX_COUNT = 1e12
"""A quarterly target: a count, or USD."""
MAX_DAYS = 3660.0
"""Ten years, the longest horizon."""
MAX_HOURS = 8784.0
"""Calendar hours in a leap year."""
MAX_MULTIPLIER = 100.0
MAX_UPLIFT = 10.0
"""A relative uplift: at most eleven times the chance."""
MAX_HEADCOUNT = 10_000
MAX_QUARTERS = 40
"""Ten years of quarters."""
MAX_WEIGHT = 1e6
"""A relative arrival weight."""
SCORE_LOW = -1.0
"""The lowest threshold: every lead passes (scores are fit and intent in [0, 1], plus noise)."""
MAX_SCORE_GAP = 2.0
"""A step, gain or margin on the score: the widest score range (two weights of 1)."""

UsdDist = Annotated[Dist, AfterValidator(within(0.0, float("inf"), max_mean=MAX_USD))]
DaysDist = Annotated[Dist, AfterValidator(within(0.0, float("inf"), max_mean=MAX_DAYS))]
HoursDist = Annotated[Dist, AfterValidator(within(0.0, float("inf"), max_mean=MAX_HOURS))]
UnitDist = Annotated[Dist, AfterValidator(within(0.0, 1.0))]
PeopleDist = Annotated[Dist, AfterValidator(within(0.0, float("inf"), max_mean=1000.0))]
PositiveHoursDist = Annotated[
    Dist, AfterValidator(within(0.0, float("inf"), max_mean=MAX_HOURS, positive_mean=True))
]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def _none_word(value: Any) -> Any:
    # TOML has no null: the word "none" switches an optional setting off.
    return None if isinstance(value, str) and value.lower() == "none" else value


def _raise_all(problems: list[str]) -> None:
    """Report every broken rule at once (one line each, each naming its key first)."""
    if problems:
        raise ValueError("\n".join(problems))


def _check_shares(mapping: dict[str, float], where: str) -> None:
    total = sum(mapping.values())
    if mapping and abs(total - 1.0) > 1e-6:
        raise ValueError(f"{where} must sum to 1, but they sum to {total:g}")


# --------------------------------------------------------------------------- M1 market


class Segment(BaseModel, **_Strict):
    """A market segment (e.g. smb, midmarket, enterprise)."""

    deal_size_usd: UsdDist = Field(
        default_factory=lambda: Constant(value=30_000.0),
        description="first-year contract value of a won deal, USD",
    )
    buyer_delay_multiplier: float = Field(
        1.0,
        gt=0,
        le=MAX_MULTIPLIER,
        description="scales every buyer-side stage delay: larger accounts decide more slowly",
    )
    outbound_share: float = Field(
        0.0, ge=0, le=1, description="share of reps' self-sourced prospects in this segment"
    )
    buying_group_size: PeopleDist = Field(
        default_factory=lambda: Constant(value=1.0),
        description="people who must agree to a purchase (the buying group), drawn once per "
        "account and rounded to whole people, at least 1; see deals.consensus",
    )


class Channel(BaseModel, **_Strict):
    """A marketing channel: weekly spend buys leads through a saturating response curve.

    Leads per week = ``organic_leads_per_week + max_leads_per_week * spend /
    (spend + half_saturation_usd_per_week)``; each day's count is Poisson.
    """

    spend_usd_per_week: float = Field(
        0.0, ge=0, le=MAX_USD_PER_WEEK, description="programme spend, USD per week"
    )
    max_leads_per_week: float = Field(
        0.0,
        ge=0,
        le=MAX_LEADS_PER_WEEK,
        description="paid leads per week that unlimited spend would approach",
    )
    half_saturation_usd_per_week: float = Field(
        1.0,
        gt=0,
        le=MAX_USD_PER_WEEK,
        description="weekly spend at which paid leads reach half of the maximum, USD",
    )
    organic_leads_per_week: float = Field(
        0.0,
        ge=0,
        le=MAX_LEADS_PER_WEEK,
        description="leads per week that arrive without spend (SEO, word of mouth)",
    )
    segment_mix: dict[str, Annotated[float, Field(ge=0, le=1)]] = Field(
        default_factory=dict, description="share of this channel's leads in each segment (sum 1)"
    )
    fit: UnitDist = Field(
        default_factory=lambda: Beta(a=2.0, b=2.0),
        description="fit with the ideal customer profile, 0..1, of this channel's leads",
    )
    in_market_multiplier: float = Field(
        1.0,
        ge=0,
        le=MAX_MULTIPLIER,
        description="scales the probability that a lead from this channel buys within 12 months",
    )

    @model_validator(mode="after")
    def _mix(self) -> Channel:
        _check_shares(self.segment_mix, "segment_mix shares")
        return self


class ArrivalProfile(BaseModel, **_Strict):
    """When in the day and week leads raise their hand (they arrive around the clock)."""

    hourly_weights: list[Annotated[float, Field(ge=0, le=MAX_WEIGHT)]] = Field(
        default_factory=lambda: [1.0] * 24,
        min_length=24,
        max_length=24,
        description="relative arrival intensity for each hour of the day, 00-01 first",
    )
    weekday_weights: list[Annotated[float, Field(ge=0, le=MAX_WEIGHT)]] = Field(
        default_factory=lambda: [1.0] * 7,
        min_length=7,
        max_length=7,
        description="relative arrival intensity for each weekday, Monday first",
    )

    @model_validator(mode="after")
    def _positive(self) -> ArrivalProfile:
        if sum(self.hourly_weights) <= 0 or sum(self.weekday_weights) <= 0:
            raise ValueError("hourly_weights and weekday_weights each need a positive sum")
        return self


class BuyingWindow(BaseModel, **_Strict):
    """M2: whether and when an account buys from someone; drawn once per lead."""

    buy_within_12_months_probability: float = Field(
        1.0, ge=0, le=1, description="share of leads whose account buys from someone within a year"
    )
    start_days: DaysDist = Field(
        default_factory=lambda: Constant(value=0.0),
        description="for buyers: days from the lead's creation until the buying window opens",
    )
    length_days: DaysDist = Field(
        default_factory=lambda: Constant(value=3650.0),
        description="for buyers: days the window stays open; after it the account has bought elsewhere",
    )
    intent_ramp_days: float = Field(
        60.0,
        gt=0,
        le=MAX_DAYS,
        description="observable intent is exp(-days until the window opens / this); 1 while open",
    )
    return_share: float = Field(
        0.0,
        ge=0,
        le=1,
        description="share of buying inquirers who, if nobody in sales is working on them when "
        "their window opens (discarded, nurtured, never followed up, unreached or rejected), "
        "come back then and book a meeting with an AE themselves: no contact attempt, no "
        "speed-to-lead decay",
    )


class Market(BaseModel, **_Strict):
    """M1: who can buy, what they are worth, and the channels that reach them."""

    segments: dict[str, Segment] = Field(
        default_factory=lambda: {"all": Segment(outbound_share=1.0)},
        min_length=1,
        description="market segments by name",
    )
    channels: dict[str, Channel] = Field(
        default_factory=dict, description="marketing channels by name"
    )
    arrivals: ArrivalProfile = Field(default_factory=ArrivalProfile)
    buying_window: BuyingWindow = Field(default_factory=BuyingWindow)

    @model_validator(mode="after")
    def _references(self) -> Market:
        names = set(self.segments)
        problems = []
        for ch_name, ch in self.channels.items():
            unknown = set(ch.segment_mix) - names
            if unknown:
                problems.append(
                    f"channels.{dotted_key((ch_name,))}.segment_mix names unknown segment(s) "
                    f"{sorted(unknown)}; segments are {sorted(names)}"
                )
            if not ch.segment_mix and len(names) > 1:
                problems.append(
                    f"channels.{dotted_key((ch_name,))}.segment_mix is needed when there is more "
                    "than one segment"
                )
        if "outbound" in self.channels:
            problems.append(
                "channels.outbound is a reserved name (reps' self-sourced prospects): "
                "call the channel something else"
            )
        _raise_all(problems)
        _check_shares(
            {k: s.outbound_share for k, s in self.segments.items() if s.outbound_share},
            "segments.*.outbound_share",
        )
        return self


# --------------------------------------------------------------------------- M3 marketing


class Scoring(BaseModel, **_Strict):
    """How marketing scores a lead: observed score = fit and intent, plus noise."""

    fit_weight: float = Field(0.6, ge=0, le=1, description="weight of ICP fit in the score")
    intent_weight: float = Field(
        0.4, ge=0, le=1, description="weight of observed intent in the score"
    )
    noise_sd: float = Field(
        0.0,
        ge=0,
        le=1,
        description="standard deviation of scoring noise: the quality of the shared lead definition",
    )
    mql_threshold: float = Field(
        -1.0,
        ge=SCORE_LOW,
        le=MAX_SCORE_GAP,
        description="leads scoring at or above this become MQLs (-1, the default: every lead); "
        "at most fit_weight + intent_weight, the top of the score's range",
    )

    @property
    def top(self) -> float:
        """The highest score without noise: fit and intent both 1."""
        return self.fit_weight + self.intent_weight


class Nurture(BaseModel, **_Strict):
    """Where leads below the threshold go, if the organisation nurtures at all."""

    enabled: bool = Field(False, description="false: leads below the threshold are discarded")
    rescore_every_days: int = Field(
        7,
        ge=1,
        le=int(MAX_DAYS),
        description="days between nurture touches, each of which re-scores the pool",
    )
    max_days: float = Field(
        365.0,
        gt=0,
        le=MAX_DAYS,
        description="days after which a nurtured lead drops out of the pool",
    )
    requalify_score_gain: float = Field(
        0.05,
        ge=0,
        le=MAX_SCORE_GAP,
        description="a lead sales sent back must score this much more than when it was sent "
        "back before it is an MQL again (its intent has to rise)",
    )
    affinity_per_touch: float = Field(
        0.0,
        ge=0,
        le=1,
        description="brand affinity gained per nurture touch (saturates at 1); raises win odds",
    )
    engaged_share: float = Field(
        1.0,
        ge=0,
        le=1,
        description="share of nurtured leads who engage with the touches at all (the same leads "
        "in every design); the rest show no rising intent, so nurture never requalifies them",
    )


class Marketing(BaseModel, **_Strict):
    """M3: qualification by score and nurture."""

    scoring: Scoring = Field(default_factory=Scoring)
    nurture: Nurture = Field(default_factory=Nurture)


# --------------------------------------------------------------------------- M4 handoff


class SpeedToLead(BaseModel, **_Strict):
    """Contact probability of an attempt falls with the delay since the lead raised its hand.

    P(contact) = ``contact_probability`` x multiplier, the multiplier interpolated
    log-linearly between the points (``decay_hours[i]``, ``decay_multiplier[i]``)
    and held flat beyond the last point.
    """

    contact_probability: float = Field(
        1.0, ge=0, le=1, description="chance that an immediate attempt reaches the lead"
    )
    decay_hours: list[Annotated[float, Field(ge=0, le=MAX_HOURS)]] = Field(
        default_factory=lambda: [0.0],
        min_length=1,
        description="delays of the curve's points, hours",
    )
    decay_multiplier: list[Annotated[float, Field(gt=0, le=1)]] = Field(
        default_factory=lambda: [1.0], min_length=1, description="multiplier at each point"
    )

    @model_validator(mode="after")
    def _curve(self) -> SpeedToLead:
        h, m = self.decay_hours, self.decay_multiplier
        if len(h) != len(m):
            raise ValueError(
                f"decay_hours and decay_multiplier need the same length ({len(h)} vs {len(m)})"
            )
        if h[0] != 0 or any(b <= a for a, b in zip(h, h[1:], strict=False)):
            raise ValueError(f"decay_hours must start at 0 and increase, got {h}")
        return self


class Handoff(BaseModel, **_Strict):
    """M4: how a marketing-qualified lead reaches sales and what happens if sales says no."""

    qualifier: Literal["sdr", "ae"] = Field(
        "ae", description="who works MQLs: the SDR team, or account executives directly"
    )
    route: Literal["pooled", "round_robin", "least_loaded", "segment"] = Field(
        "pooled",
        description="pooled: one shared queue; otherwise each lead is assigned to one rep on arrival",
    )
    sla_hours: Annotated[float | None, BeforeValidator(_none_word)] = Field(
        None,
        gt=0,
        le=MAX_HOURS,
        description="first-response target, hours: a rep turns to a new MQL within it, and "
        "distrust neither makes them cherry-pick nor caps their hours for marketing leads (the "
        'first call can still wait for working hours or a busy rep; "none": no SLA)',
    )
    max_attempts: int = Field(1, ge=1, le=20, description="contact attempts before giving up")
    retry_after_hours: float = Field(
        24.0, ge=0, le=MAX_HOURS, description="calendar hours between attempts"
    )
    abandon_after_days: float = Field(
        3650.0,
        gt=0,
        le=MAX_DAYS,
        description="an MQL nobody has attempted after this many days falls into the black hole",
    )
    rejected: Literal["recycle", "discard"] = Field(
        "discard",
        description="what happens to leads sales rejects or cannot reach: back to nurture, or lost",
    )
    acceptance_threshold: float = Field(
        -1.0,
        ge=SCORE_LOW,
        le=MAX_SCORE_GAP,
        description="sales accepts a reached lead whose true quality (fit and in-market, "
        "weighted as in marketing.scoring) is at least this (-1, the default: every reached "
        "lead); at most marketing.scoring.fit_weight + intent_weight",
    )
    qualification_noise_sd: float = Field(
        0.0, ge=0, le=1, description="noise in sales' judgement of a lead's true quality"
    )
    in_market_horizon_days: float = Field(
        90.0,
        ge=0,
        le=MAX_DAYS,
        description="a lead counts as in-market for sales if its buying window opens within this",
    )
    speed_to_lead: SpeedToLead = Field(default_factory=SpeedToLead)


# --------------------------------------------------------------------------- M5 sales


class WorkHours(BaseModel, **_Strict):
    """A team's working calendar (same every week; time zone of the simulation)."""

    start_hour: float = Field(0.0, ge=0, lt=24, description="start of the working day, hour")
    end_hour: float = Field(24.0, gt=0, le=24, description="end of the working day, hour")
    days: list[Weekday] = Field(
        default_factory=lambda: list(WEEKDAYS), min_length=1, description="working weekdays"
    )

    @model_validator(mode="after")
    def _order(self) -> WorkHours:
        if self.end_hour <= self.start_hour:
            raise ValueError(
                f"end_hour ({self.end_hour:g}) must be after start_hour ({self.start_hour:g})"
            )
        if len(set(self.days)) != len(self.days):
            raise ValueError(f"days lists a weekday twice: {self.days}")
        return self


class Prospecting(BaseModel, **_Strict):
    """Reps' own outbound work: what their free hours turn into."""

    hours_per_prospect: Annotated[PositiveHoursDist | None, BeforeValidator(_none_word)] = Field(
        None,
        description="prospecting hours between two self-sourced first meetings "
        '(exponential: a Poisson stream; "none": prospecting books no meetings)',
    )
    fit: UnitDist = Field(
        default_factory=lambda: Beta(a=3.0, b=2.0),
        description="ICP fit of self-sourced prospects (reps pick accounts: higher fit)",
    )
    in_market_multiplier: float = Field(
        1.0,
        ge=0,
        le=MAX_MULTIPLIER,
        description="scales the 12-month buy probability (cold accounts: below 1)",
    )


class Team(BaseModel, **_Strict):
    """A sales team (SDRs or AEs): headcount, hours, and how each rep spends them."""

    headcount: int = Field(1, ge=0, le=MAX_HEADCOUNT, description="number of reps")
    cost_usd_per_year: float = Field(
        0.0,
        ge=0,
        le=MAX_USD_PER_PERSON_YEAR,
        description="loaded cost of one rep per year (salary, commission, overhead), USD",
    )
    headcount_by_segment: Annotated[
        dict[str, Annotated[int, Field(ge=0, le=MAX_HEADCOUNT)]] | None,
        BeforeValidator(_none_word),
    ] = Field(
        None,
        description='reps dedicated to each segment (needed by route = "segment"); '
        "sums to headcount",
    )
    work_hours: WorkHours = Field(default_factory=WorkHours)
    attrition_share_per_year: float = Field(
        0.0,
        ge=0,
        lt=1,
        description="share of reps who leave in a year (AEs: those at or above quota); a "
        "leaver's open deals and waiting leads go to colleagues, the seat is refilled after "
        "time_to_hire_days unless hiring is frozen (budget.hiring.backfill)",
    )
    attrition_share_per_year_below_quota: Annotated[float | None, BeforeValidator(_none_word)] = (
        Field(
            None,
            ge=0,
            lt=1,
            description="AEs below quota over the last four quarters leave at this rate instead, "
            'AEs without four quarters yet at the midpoint of the two ("none": the same rate)',
        )
    )
    time_to_hire_days: float = Field(
        60.0,
        ge=0,
        le=MAX_DAYS,
        description="days from deciding to fill a seat to the new rep's first day",
    )
    ramp_days: float = Field(
        150.0,
        ge=0,
        le=MAX_DAYS,
        description="days a new rep takes to full productivity; modelled as selling fully from "
        "halfway through (the output a linear ramp loses), paid from the first day",
    )
    admin_share: float = Field(0.0, ge=0, lt=1, description="share of working hours on admin")
    internal_meetings_share: float = Field(
        0.0, ge=0, lt=1, description="share of working hours in internal meetings"
    )
    attempt_hours: HoursDist = Field(
        default_factory=lambda: Constant(value=0.0),
        description="rep hours for one contact attempt that does not reach the lead",
    )
    qualification_hours: HoursDist = Field(
        default_factory=lambda: Exponential(mean=0.5),
        description="rep hours for an attempt that reaches the lead and qualifies it",
    )
    response_delay_hours: HoursDist = Field(
        default_factory=lambda: Constant(value=0.0),
        description="hours before a rep turns to a newly assigned lead (at full trust)",
    )
    queue_order: Literal["fifo", "score"] = Field(
        "fifo", description="which waiting lead a rep takes first: oldest, or highest score"
    )
    prospecting: Prospecting = Field(default_factory=Prospecting)

    @model_validator(mode="after")
    def _shares(self) -> Team:
        if self.admin_share + self.internal_meetings_share >= 1:
            raise ValueError("admin_share + internal_meetings_share must leave some working time")
        if self.headcount_by_segment is not None:
            total = sum(self.headcount_by_segment.values())
            if total != self.headcount:
                raise ValueError(
                    f"headcount_by_segment sums to {total}, but headcount is {self.headcount}"
                )
        return self

    @property
    def productive_share(self) -> float:
        """Share of working hours free for leads, deals and prospecting."""
        return 1.0 - self.admin_share - self.internal_meetings_share


class AETeam(Team):
    """Account executives: they run opportunities and carry a quota."""

    quota_usd_per_year: float = Field(
        1.0e6,
        ge=0,
        le=MAX_USD,
        description="each AE's annual bookings quota, USD (pro-rated to the horizon)",
    )


class Trust(BaseModel, **_Strict):
    """M5: each rep's trust in marketing leads, moved by every marketing lead they work."""

    enabled: bool = Field(False, description="false: reps treat every marketing lead alike")
    initial: float = Field(0.5, ge=0, le=1, description="trust of every rep at the start")
    learning_rate: float = Field(
        0.05,
        ge=0,
        le=1,
        description="weight of the latest marketing lead's outcome in trust: 1 if it was "
        "accepted (or, for an AE, passed discovery), 0 if rejected or never reached",
    )
    cherry_pick_score: float = Field(
        0.0,
        ge=0,
        le=MAX_SCORE_GAP,
        description="at zero trust, reps skip leads scoring below marketing.scoring."
        "mql_threshold (as set in the scenario, not as marketing moves it) + this (scaled by "
        "1 - trust); an SLA or a team pay plan switches cherry-picking off",
    )
    slow_response_multiplier: float = Field(
        1.0,
        ge=1,
        le=MAX_MULTIPLIER,
        description="at zero trust, response delay is multiplied by this (scaled by 1 - trust)",
    )
    follow_up_share_at_zero_trust: float = Field(
        1.0,
        ge=0,
        le=1,
        description="at zero trust, a rep gives marketing leads at most this share of a working "
        "day's productive hours (rising linearly to all of them at full trust); the rest goes "
        "to prospecting. Leads over the cap wait for the next day. Only on an individual plan "
        "without an SLA",
    )


class Sales(BaseModel, **_Strict):
    """M5: the constrained resources, SDRs and AEs."""

    sdr: Team = Field(default_factory=lambda: Team(headcount=0))
    ae: AETeam = Field(default_factory=AETeam)
    trust: Trust = Field(default_factory=Trust)


# --------------------------------------------------------------------------- M6 deals


class Stage(BaseModel, **_Strict):
    """One step of a deal: the buyer takes calendar days, the AE takes hours."""

    buyer_delay_days: DaysDist = Field(
        default_factory=lambda: Constant(value=0.0),
        description="calendar days from the previous step until this meeting (buyer's side)",
    )
    rep_hours: HoursDist = Field(
        default_factory=lambda: Constant(value=1.0),
        description="AE hours this step takes (preparation, meeting, follow-up)",
    )
    pass_probability: float = Field(
        1.0,
        ge=0,
        le=1,
        description="chance to pass for an average-fit lead that is in market (its window is "
        "open or opens within handoff.in_market_horizon_days); at a consensus stage, for a "
        "buying group of one",
    )
    consensus: bool = Field(
        False,
        description="the buying group builds its consensus at this stage: a group that does "
        "not agree ends in no decision (see deals.consensus)",
    )


class Consensus(BaseModel, **_Strict):
    """M6: how the chance that a buying group agrees falls with its size.

    ``purchase_probability`` at each ``stakeholders`` count is interpolated as a
    power law between the points (log-log), and beyond the last point with the
    slope of the last piece. Relative to a group of one, it is the chance c that
    a group reaches consensus over its whole buying journey; the part of it that
    falls after the group meets sales, ``c ** after_engagement_share``, is spread
    evenly over the stages marked ``consensus``, and a group that fails there
    ends in no decision.
    """

    stakeholders: list[Annotated[float, Field(ge=1, le=1000)]] = Field(
        default_factory=lambda: [1.0],
        min_length=1,
        description="buying-group sizes at which purchase_probability is known, increasing, "
        "starting at 1",
    )
    purchase_probability: list[Annotated[float, Field(gt=0, le=1)]] = Field(
        default_factory=lambda: [1.0],
        min_length=1,
        description="chance that a purchase with that many stakeholders ends in a purchase "
        "from anyone (not in no decision)",
    )
    after_engagement_share: float = Field(
        1.0,
        ge=0,
        le=1,
        description="share of the buying journey still ahead when the group meets sales: a "
        "group that agrees with chance c over the whole journey agrees with chance "
        "c ** this over the consensus stages (the rest of the attrition happens before the "
        "buyer ever raises a hand)",
    )

    @model_validator(mode="after")
    def _points(self) -> Consensus:
        n, p = self.stakeholders, self.purchase_probability
        problems = []
        if len(n) != len(p):
            problems.append(
                f"stakeholders and purchase_probability need one value each ({len(n)} and "
                f"{len(p)} given)"
            )
        if n and n[0] != 1:
            problems.append(f"stakeholders must start at 1 (a group of one), not {n[0]:g}")
        if any(b <= a for a, b in zip(n, n[1:], strict=False)):
            problems.append("stakeholders must increase")
        if any(b > a for a, b in zip(p, p[1:], strict=False)):
            problems.append("purchase_probability must not rise with more stakeholders")
        _raise_all(problems)
        return self


class Deals(BaseModel, **_Strict):
    """M6: the stages from first meeting to close, and what moves the odds.

    The first stage is the discovery meeting: passing it makes the accepted lead
    an *opportunity*; passing the last stage wins the deal.
    """

    stages: dict[str, Stage] = Field(
        default_factory=lambda: {"discovery": Stage(), "close": Stage()},
        min_length=2,
        max_length=32,  # each MQL of a lead has 32 per-lead uniforms per purpose
        description="ordered stages, first = discovery, last = close",
    )
    fit_sensitivity: float = Field(
        0.0,
        ge=0,
        le=1,
        description="0: fit does not matter; 1: pass chance scales with fit / 0.5",
    )
    closed_window_pass_factor: float = Field(
        1.0,
        ge=0,
        le=1,
        description="pass chance multiplier while the account is not in market (its window "
        "opens later than handoff.in_market_horizon_days, or never)",
    )
    consensus: Consensus = Field(default_factory=Consensus)
    enablement_share: float = Field(
        0.0,
        ge=0,
        le=1,
        description="share of a buying group's consensus shortfall (its chance of not "
        "agreeing, beyond a group of one's) that marketing's buyer-enablement content "
        "recovers, at the consensus stages of every deal",
    )
    affinity_win_uplift: float = Field(
        0.0,
        ge=0,
        le=MAX_UPLIFT,
        description="relative uplift of the close chance at full brand affinity",
    )


# --------------------------------------------------------------------------- M7 incentives


class MarketingIncentive(BaseModel, **_Strict):
    """M7: what marketing is measured on, and how it chases the number.

    The KPI counts leads, MQLs, sales-accepted leads, demos booked (accepted
    leads that passed discovery, so a demo is on the calendar), pipeline USD or
    bookings USD from marketing's channels. Marketing moves its budget toward
    the channels with the most KPI units per dollar, and lowers the MQL
    threshold while it is behind its pro-rated target (and raises it back
    toward the agreed definition while ahead). Nothing says "buy bad leads":
    a volume KPI makes that happen.
    """

    kpi: Literal["none", "leads", "mqls", "accepted", "demos_booked", "pipeline", "bookings"] = (
        Field("none", description="the number marketing is paid on (none: no KPI pressure)")
    )
    target_per_quarter: float = Field(
        0.0,
        ge=0,
        le=MAX_COUNT,
        description="KPI target per 13-week quarter (a count, or USD for pipeline and bookings)",
    )
    target_raise_after_sales_miss_share: float = Field(
        0.0,
        ge=0,
        le=1,
        description="sales asks for more leads: after each quarter in which sales missed its "
        "bookings target, marketing's target grows by this share",
    )
    threshold_step_per_week: float = Field(
        0.0,
        ge=0,
        le=MAX_SCORE_GAP,
        description="how far marketing moves the MQL threshold per week while behind (down) or "
        "ahead (back up, never above the scenario's threshold) of its pro-rated target; "
        "0: the threshold is an agreed definition and never moves",
    )
    threshold_floor: float = Field(
        -1.0,
        ge=SCORE_LOW,
        le=MAX_SCORE_GAP,
        description="marketing never lowers the MQL threshold below this; at most "
        "marketing.scoring.mql_threshold",
    )
    quarter_end_days: int = Field(
        0,
        ge=0,
        le=91,
        description="quarter-end push: in the last days of a quarter, while behind, the weekly "
        "threshold step is taken every day",
    )
    reallocation_share_per_quarter: float = Field(
        0.0,
        ge=0,
        le=1,
        description="each quarter, the budget split closes this share of its gap to the split "
        "in proportion to KPI units per dollar over the quarter",
    )
    exploration_share: float = Field(
        0.1,
        ge=0,
        le=1,
        description="share of the programme budget kept spread evenly over the paid channels "
        "whatever they returned (so a channel can prove itself again)",
    )


class SalesIncentive(BaseModel, **_Strict):
    """M7: how reps are paid.

    On an ``individual`` plan a rep's own bookings pay, so a rep who distrusts
    marketing leads acts on it (``sales.trust``: cherry-picking, the cap on time
    for marketing leads) and keeps self-sourced accounts. On a ``team`` plan the
    team's bookings pay: reps work every lead they are given, trust or not (only
    the slower response of a doubtful rep remains). Under an SLA
    (``handoff.sla_hours``) reps work every lead whatever the plan, so there
    the plan matters only through the quarter-end push.
    """

    plan: Literal["individual", "team"] = Field(
        "individual", description="individual quota and commission, or team / shared revenue target"
    )
    sdr_paid_on: Literal["meetings", "opportunities"] = Field(
        "opportunities",
        description="SDRs paid per meeting booked pass on weaker leads; paid per accepted "
        "opportunity they apply the handoff's acceptance threshold",
    )
    meetings_pay_acceptance_drop: float = Field(
        0.0,
        ge=0,
        le=MAX_SCORE_GAP,
        description="when SDRs are paid on meetings: how far below handoff.acceptance_threshold "
        "they still book a meeting",
    )
    quarter_end_days: int = Field(
        0,
        ge=0,
        le=91,
        description="quarter-end push: in a quarter's last days, a rep behind quota (their own "
        "on an individual plan, the team's on a team plan) closes a deal that would slip into "
        "the next quarter now, at a discount (0: off)",
    )
    quarter_end_discount_share: float = Field(
        0.15, ge=0, lt=1, description="share of the deal's value given away to close it early"
    )


class Incentives(BaseModel, **_Strict):
    """M7: KPIs and compensation."""

    marketing: MarketingIncentive = Field(default_factory=MarketingIncentive)
    sales: SalesIncentive = Field(default_factory=SalesIncentive)


# --------------------------------------------------------------------------- M8 feedback


class Feedback(BaseModel, **_Strict):
    """M8: joint pipeline reviews of sales and marketing, and what each one changes.

    A review can sharpen the shared lead definition (less scoring noise), move
    budget by closed-loop attribution of *won* revenue, and recalibrate reps'
    trust to the acceptance rate of the leads they actually reached. Every AE
    and SDR spends ``hours_per_attendee`` in each review, a block in their diary
    from the start of the review day's working hours: work due meanwhile waits,
    and an idle rep loses prospecting time. ``cost_usd_per_year`` is the fixed
    cost of the process itself.
    """

    cadence: Literal["never", "ad_hoc", "monthly", "weekly"] = Field(
        "never",
        description="never; ad_hoc (after a conflict: the lead team's trust falls below "
        "ad_hoc_trust_below, at most every 4 weeks); monthly (every 4 weeks); weekly",
    )
    ad_hoc_trust_below: float = Field(
        0.3, ge=0, le=1, description="ad hoc reviews: the mean trust that counts as a conflict"
    )
    hours_per_attendee: float = Field(
        1.0, ge=0, le=40, description="hours each AE and SDR spends in one review"
    )
    noise_reduction_share: float = Field(
        0.0,
        ge=0,
        le=1,
        description="each review closes this share of the gap between scoring noise and "
        "noise_floor_sd",
    )
    noise_floor_sd: float = Field(
        0.0, ge=0, le=1, description="the scoring noise that no amount of review removes"
    )
    attribution: Literal["none", "won_revenue"] = Field(
        "none",
        description="won_revenue: each review moves the budget split toward won bookings per "
        "dollar by channel over the last 26 weeks",
    )
    budget_shift_share: float = Field(
        0.1, ge=0, le=1, description="share of the gap to the attribution split closed per review"
    )
    trust_recalibration_share: float = Field(
        0.0,
        ge=0,
        le=1,
        description="each review moves reps' trust this far toward the share of marketing "
        "leads they reached since the last review that were accepted",
    )
    cost_usd_per_year: float = Field(
        0.0,
        ge=0,
        le=1e8,
        description="fixed yearly cost of running the joint process whatever the bookings "
        "(revenue-operations staff, shared systems), USD; counted in the marketing cost",
    )


# --------------------------------------------------------------------------- M9 budget


class JointTeam(BaseModel, **_Strict):
    """M9: Opportunity Creation 2.0's middle ground, funded from both sides.

    Marketing gives up programme budget and sales gives up AE positions; the
    money hires qualifiers at ``sales.sdr.cost_usd_per_year`` each, who join the
    SDR team (the team that nurtures and qualifies when ``handoff.qualifier`` is
    ``"sdr"``).
    """

    from_marketing_usd_per_week: float = Field(
        0.0,
        ge=0,
        le=MAX_USD_PER_WEEK,
        description="programme spend moved into the team, taken pro rata from channels",
    )
    from_ae_headcount: int = Field(
        0, ge=0, le=MAX_HEADCOUNT, description="AE positions moved into the team"
    )


class EmbeddedMarketers(BaseModel, **_Strict):
    """M9: marketers embedded in key accounts (account-based marketing), paid from the budget.

    Each marketer works at most ``accounts_per_marketer`` open opportunities at a
    time in the key-account segments; an opportunity is covered from discovery to
    its close if a place is free when it is created. Only covered deals get the
    account insight.
    """

    headcount: int = Field(0, ge=0, le=MAX_HEADCOUNT, description="number of embedded marketers")
    cost_usd_per_year: float = Field(
        150_000.0,
        ge=0,
        le=MAX_USD_PER_PERSON_YEAR,
        description="loaded cost of one embedded marketer per year, USD",
    )
    segments: list[str] = Field(
        default_factory=list, description="the key-account segments they work in"
    )
    accounts_per_marketer: int = Field(
        20, ge=1, le=1000, description="open opportunities one embedded marketer can work at once"
    )
    consensus_share: float = Field(
        0.0,
        ge=0,
        le=1,
        description="share of a covered deal's consensus shortfall that the marketer's account "
        "insight and content for the buying group recover, on top of deals.enablement_share",
    )


class Hiring(BaseModel, **_Strict):
    """M9: the sales headcount plan: refilling seats, and buying AEs as bookings grow.

    With ``rule = "share_of_bookings"``, at each quarter's end from the second
    year on, AEs are hired until the yearly cost of the team
    (``sales.ae.cost_usd_per_year`` each) reaches ``bookings_share`` of the last
    four quarters' bookings. Nobody is laid off when bookings fall. New reps
    take the team's ``time_to_hire_days`` and ``ramp_days``.
    """

    rule: Literal["fixed", "share_of_bookings"] = Field(
        "fixed", description="fixed: no new positions; share_of_bookings: see above"
    )
    bookings_share: Annotated[float, Field(gt=0, le=2)] | Literal["first_year"] = Field(
        0.2,
        description='share_of_bookings: AE cost per dollar of trailing bookings; "first_year": '
        "the share the team's cost had of the first year's bookings",
    )
    max_hires_per_quarter: int = Field(
        4,
        ge=0,
        le=MAX_HEADCOUNT,
        description="recruiting capacity: most new AE positions filled per quarter",
    )
    backfill: Literal["always", "frozen_after_misses"] = Field(
        "always",
        description="seats of reps who leave (sales.*.attrition_share_per_year): always "
        "refilled, or frozen while sales has missed freeze_after_missed_quarters quarters in "
        "a row (recruiting starts again after a quarter on target)",
    )
    freeze_after_missed_quarters: int = Field(
        1,
        ge=1,
        le=MAX_QUARTERS,
        description="frozen_after_misses: consecutive missed quarters that freeze hiring",
    )
    frozen_share: float = Field(
        1.0,
        gt=0,
        le=1,
        description="frozen_after_misses: share of the seats vacated during a freeze that stay "
        "empty (the rest are refilled); empty seats still count in sales' target",
    )


class Budget(BaseModel, **_Strict):
    """M9: how the marketing programme budget is set, and what moves between the sides.

    Quarters are 13 weeks. Sales misses a quarter when its bookings fall short
    of the AEs' quotas for it.
    """

    rule: Literal["fixed", "share_of_bookings", "cut_after_misses"] = Field(
        "fixed",
        description="fixed; share_of_bookings (after the first year, the weekly budget is "
        "bookings_share of the last four quarters' weekly bookings, embedded marketers and the "
        "joint team's marketing money included); cut_after_misses",
    )
    bookings_share: Annotated[float, Field(ge=0, le=2)] | Literal["first_year"] = Field(
        0.1,
        description='share_of_bookings: marketing budget per dollar of bookings; "first_year": '
        "the share the starting budget had of the first year's bookings",
    )
    cut_after_missed_quarters: int = Field(
        2,
        ge=1,
        le=MAX_QUARTERS,
        description="cut_after_misses: consecutive missed quarters before a cut",
    )
    cut_share: float = Field(
        0.2,
        ge=0,
        le=1,
        description="cut_after_misses: share of the budget cut at that quarter's end and after "
        "every further miss",
    )
    joint_team: JointTeam = Field(default_factory=JointTeam)
    embedded_marketers: EmbeddedMarketers = Field(default_factory=EmbeddedMarketers)
    hiring: Hiring = Field(default_factory=Hiring)


class Leadership(BaseModel, **_Strict):
    """M9: leadership churn: a new CMO and CRO start over, and learning is lost."""

    churn_after_missed_quarters: int = Field(
        0,
        ge=0,
        le=MAX_QUARTERS,
        description="0: never; else after this many consecutive missed quarters the leaders "
        "are replaced: scoring noise, MQL threshold, marketing's target, the budget split and "
        "reps' trust go back to where the scenario started them",
    )


# --------------------------------------------------------------------------- whole


class Simulation(BaseModel, **_Strict):
    """How long to simulate, from which seed, and the date of day 0."""

    horizon_days: float = Field(365.0, gt=0, le=3660, description="simulated calendar days")
    seed: int = Field(
        0, ge=0, description="root seed; with the replication number it fixes every draw"
    )
    start_date: str = Field(
        "2026-01-05",
        description="the date of day 0, a Monday (YYYY-MM-DD): dates the event log's "
        "timestamps; the simulated results do not depend on it",
    )

    @field_validator("start_date", mode="before")
    @classmethod
    def _a_monday(cls, value: Any) -> Any:
        """Day 0 is a Monday at midnight: the reps' working week starts there."""
        if isinstance(value, datetime.datetime):
            raise ValueError("expected a date such as 2026-01-05, not a date and time")
        if isinstance(value, datetime.date):
            value = value.isoformat()  # a TOML date: 2026-01-05 without quotes
        if not isinstance(value, str):
            return value  # the str check says what is wrong
        try:
            day = datetime.date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"expected a date written YYYY-MM-DD, got {value!r}") from None
        if day.weekday() != 0:
            monday = day - datetime.timedelta(days=day.weekday())
            raise ValueError(
                f"day 0 is a Monday (the reps' week starts there); {value} is a "
                f"{day.strftime('%A')}: use {monday.isoformat()} or the Monday after"
            )
        return day.isoformat()


class Assumption(NamedTuple):
    """A setting a scenario file declares with a plausible range (see ``gtmsim.scenario.assumptions``).

    Attributes
    ----------
    value : float or int
        What the scenario runs with (an int for a whole-number setting).
    low, high : float or int
        The plausible range, ``low <= value <= high``; equal for a known point.
    source : str or None
        Where the range comes from, as the file says (e.g. ``"assumption"``).
    """

    value: float
    low: float
    high: float
    source: str | None = None

    @property
    def integer(self) -> bool:
        """Whether the setting takes whole numbers only (a headcount, a number of days)."""
        return isinstance(self.value, int)


class Scenario(BaseModel, **_Strict):
    """A complete, validated, frozen description of one market under one org design.

    Besides its settings, a scenario loaded from a file carries the ranges the
    file declares (:meth:`assumptions`); they are not settings, so they are in
    neither :meth:`model_dump` nor :meth:`content_hash`.
    """

    _assumptions: dict[str, Assumption] = PrivateAttr(default_factory=dict)

    name: str = Field("scenario", min_length=1, description="short name shown in tables and plots")
    description: str = Field("", description="one line on what this scenario is")
    simulation: Simulation = Field(default_factory=Simulation)
    market: Market = Field(default_factory=Market)
    marketing: Marketing = Field(default_factory=Marketing)
    handoff: Handoff = Field(default_factory=Handoff)
    sales: Sales = Field(default_factory=Sales)
    deals: Deals = Field(default_factory=Deals)
    incentives: Incentives = Field(default_factory=Incentives)
    feedback: Feedback = Field(default_factory=Feedback)
    budget: Budget = Field(default_factory=Budget)
    leadership: Leadership = Field(default_factory=Leadership)

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        segments = set(self.market.segments)
        problems = []
        if self.handoff.qualifier == "sdr" and self.sales.sdr.headcount == 0:
            problems.append(
                'handoff.qualifier is "sdr" but sales.sdr.headcount is 0: '
                'hire SDRs or set qualifier = "ae"'
            )
        if self.handoff.rejected == "recycle" and not self.marketing.nurture.enabled:
            problems.append(
                'handoff.rejected is "recycle" but marketing.nurture.enabled is false: '
                'there is no nurture pool to recycle into (enable nurture, or use "discard")'
            )
        if self.sales.ae.headcount == 0:
            problems.append("sales.ae.headcount is 0: someone has to run the deals")
        for team_name in ("sdr", "ae"):
            team: Team = getattr(self.sales, team_name)
            by_seg = team.headcount_by_segment
            if by_seg is not None and set(by_seg) - segments:
                problems.append(
                    f"sales.{team_name}.headcount_by_segment names unknown segment(s) "
                    f"{sorted(set(by_seg) - segments)}"
                )
            works_leads = team_name == self.handoff.qualifier or team_name == "ae"
            if self.handoff.route == "segment" and works_leads and team.headcount:
                covered = {k for k, v in (by_seg or {}).items() if v > 0}
                if covered != segments:
                    problems.append(
                        f"sales.{team_name}.headcount_by_segment must give every segment at "
                        f'least one rep when handoff.route is "segment" (missing: '
                        f"{sorted(segments - covered)})"
                    )
        problems += self._org_problems(segments)
        _raise_all(problems)
        return self

    def _score_problems(self) -> list[str]:
        """Thresholds inside the score's range, the floor under the threshold it floors."""
        scoring = self.marketing.scoring
        top = scoring.top
        problems = [
            f"{key} is {value:g}, outside the score's range: it must lie between "
            f"{SCORE_LOW:g} (every lead) and {top:g} (marketing.scoring.fit_weight + "
            "intent_weight, the top score)"
            for key, value in (
                ("marketing.scoring.mql_threshold", scoring.mql_threshold),
                ("handoff.acceptance_threshold", self.handoff.acceptance_threshold),
                ("incentives.marketing.threshold_floor", self.incentives.marketing.threshold_floor),
            )
            if value > top
        ]
        floor = self.incentives.marketing.threshold_floor
        if scoring.mql_threshold < floor <= top:
            problems.append(
                f"incentives.marketing.threshold_floor is {floor:g}, above "
                f"marketing.scoring.mql_threshold ({scoring.mql_threshold:g}): it must lie between "
                f"{SCORE_LOW:g} and the threshold it floors"
            )
        return problems

    def _org_problems(self, segments: set[str]) -> list[str]:
        problems = self._score_problems()
        kpi = self.incentives.marketing
        if kpi.kpi != "none" and kpi.target_per_quarter <= 0 and kpi.threshold_step_per_week:
            problems.append(
                f"incentives.marketing.kpi is {kpi.kpi!r} with threshold_step_per_week > 0: "
                "set target_per_quarter, the number the threshold chases"
            )
        embedded = self.budget.embedded_marketers
        if set(embedded.segments) - segments:
            problems.append(
                "budget.embedded_marketers.segments names unknown segment(s) "
                f"{sorted(set(embedded.segments) - segments)}; segments are {sorted(segments)}"
            )
        joint = self.budget.joint_team
        if joint.from_ae_headcount >= self.sales.ae.headcount > 0:
            problems.append(
                f"budget.joint_team.from_ae_headcount ({joint.from_ae_headcount}) must leave "
                f"some of the {self.sales.ae.headcount} AEs to run the deals"
            )
        if joint.from_ae_headcount or joint.from_marketing_usd_per_week:
            if self.sales.sdr.cost_usd_per_year <= 0 or (
                joint.from_ae_headcount and self.sales.ae.cost_usd_per_year <= 0
            ):
                problems.append(
                    "budget.joint_team moves money into qualifiers: set "
                    "sales.sdr.cost_usd_per_year and sales.ae.cost_usd_per_year (USD per rep)"
                )
            for team in ("sdr", "ae"):
                if getattr(self.sales, team).headcount_by_segment is not None:
                    problems.append(
                        f"budget.joint_team changes headcounts, so sales.{team}."
                        'headcount_by_segment must be "none"'
                    )
        programmes = sum(c.spend_usd_per_week for c in self.market.channels.values())
        taken = joint.from_marketing_usd_per_week + embedded.headcount * (
            embedded.cost_usd_per_year / 52.0
        )
        if taken > programmes + 1e-9:
            problems.append(
                f"budget.joint_team and budget.embedded_marketers take {taken:,.0f} USD per week "
                f"from a programme budget of {programmes:,.0f} USD per week "
                "(market.channels.*.spend_usd_per_week)"
            )
        return problems

    def assumptions(self) -> dict[str, Assumption]:
        """The settings declared with a range, by dotted key path, in the order the files set them.

        Returns
        -------
        dict of str to Assumption
            For example ``{"deals.enablement_share": Assumption(0.05, 0.0, 0.1,
            "assumption")}``; a number inside a distribution has the parameter in
            its path (``market.buying_window.length_days.mean``). Empty when the
            scenario declares none, and for one built by ``model_validate``
            rather than :func:`~gtmsim.scenario.loader.load_scenario`.
        """
        return dict(self._assumptions)

    def content_hash(self) -> str:
        """A stable hash of every setting: equal hashes mean identical scenarios.

        Order counts: deal stages run in the order given, and the order of channels
        and segments is the order of the random draws. Declared ranges and their
        sources are left out: the simulation depends on values only, so two files
        that differ only in their ranges simulate identically and hash alike.
        """
        payload = json.dumps(self.model_dump(mode="json"))
        return hashlib.sha256(payload.encode()).hexdigest()[:16]


__all__ = [
    "AETeam",
    "Assumption",
    "Budget",
    "EmbeddedMarketers",
    "Feedback",
    "Incentives",
    "JointTeam",
    "Leadership",
    "MarketingIncentive",
    "SalesIncentive",
    "ArrivalProfile",
    "BuyingWindow",
    "Channel",
    "Consensus",
    "Deals",
    "Handoff",
    "Histogram",
    "Market",
    "Marketing",
    "Nurture",
    "Prospecting",
    "Scenario",
    "Scoring",
    "Segment",
    "Simulation",
    "SpeedToLead",
    "Stage",
    "Team",
    "Trust",
    "WorkHours",
]
