"""M7-M9: incentives, joint reviews, budget rules and leadership, as policies on the world.

Each class here is a :class:`gtmsim.model.world.Policy`: called at midnight,
it reads what the run has recorded so far and moves the knobs of the
organisation (the MQL threshold, scoring noise, the programme budget and its
split over channels, reps' trust). None of them knows which org design it is
in: an org design is only a choice of settings, and the loops of DESIGN.md M10
(the death spiral, the learning loop) arise from these rules acting together.

Quarters are 13 weeks (91 days), so that quarterly and weekly figures line up.
"""

from __future__ import annotations

from heapq import heappop, heappush

import numpy as np

from gtmsim.model.rng import stream
from gtmsim.results.recorder import ACCEPTED, LEAD, MQL, OPPORTUNITY

QUARTER_DAYS = 91
ATTRIBUTION_DAYS = 182  # closed-loop attribution looks back two quarters

_FUNNEL_KPI = {"leads": LEAD, "mqls": MQL, "accepted": ACCEPTED, "demos_booked": OPPORTUNITY}


def staffing(scenario):
    """The SDR and AE team settings after the joint team (M9) has taken its share.

    The AE positions and programme money given up hire qualifiers at the SDR
    cost; they join the SDR team.
    """
    sales, joint = scenario.sales, scenario.budget.joint_team
    sdr, ae = sales.sdr, sales.ae
    if not (joint.from_ae_headcount or joint.from_marketing_usd_per_week):
        return sdr, ae
    money = (
        joint.from_ae_headcount * ae.cost_usd_per_year + 52.0 * joint.from_marketing_usd_per_week
    )
    hired = int(money // sdr.cost_usd_per_year)
    return (
        sdr.model_copy(update={"headcount": sdr.headcount + hired}),
        ae.model_copy(update={"headcount": ae.headcount - joint.from_ae_headcount}),
    )


def kpi_by_channel(world, kpi: str) -> np.ndarray:
    """Cumulative KPI units so far, per marketing channel (counts, or USD)."""
    rec, n = world.rec, world.marketing.outbound_channel
    if kpi in _FUNNEL_KPI:
        return rec.funnel[_FUNNEL_KPI[kpi], :n].sum(axis=1).astype(float)
    if kpi == "pipeline":
        return np.asarray(rec.pipeline_by_channel_usd[:n], float)
    if kpi == "bookings":
        return np.asarray(rec.bookings_by_channel_usd[:n], float)
    raise ValueError(f"unknown KPI {kpi!r}")


class Programmes:
    """The marketing programme budget: a weekly total and its split over the paid channels.

    Money for the joint team and embedded marketers (M9) is taken from it
    (``reserve_usd_per_week``), pro rata over the channels: at the start, and
    again whenever a budget rule sets the total from bookings.
    """

    def __init__(self, world) -> None:
        sc = world.scenario
        mk = world.marketing
        self.marketing = mk
        spend = mk.spend_usd_per_week.copy()
        self.paid = mk.buys_leads & (spend > 0)
        budget = sc.budget
        self.reserve_usd_per_week = budget.joint_team.from_marketing_usd_per_week + (
            budget.embedded_marketers.headcount * budget.embedded_marketers.cost_usd_per_year / 52.0
        )
        total = float(spend.sum())
        self.split = spend / total if total > 0 else np.zeros_like(spend)
        self.set_total(total)
        self.initial_split = self.split.copy()

    def set_total(self, marketing_usd_per_week: float) -> None:
        """The whole marketing budget: what the reserve leaves goes to the channels."""
        self.total_usd_per_week = max(0.0, marketing_usd_per_week - self.reserve_usd_per_week)
        self.apply()

    def apply(self) -> None:
        """Set each channel's spend from the total and the split."""
        self.marketing.spend_usd_per_week[:] = self.total_usd_per_week * self.split

    def shift_toward(self, returns: np.ndarray, share: float, exploration: float) -> None:
        """Move the split ``share`` of the way toward shares in proportion to ``returns``.

        ``returns`` are KPI units (or won USD) per dollar by channel; only paid
        channels take part, and ``exploration`` of the budget stays spread evenly.
        """
        paid = self.paid
        if not paid.any() or share <= 0:
            return
        # only the leads the money bought count: organic leads come whatever the spend
        r = np.where(paid & np.isfinite(returns), np.maximum(returns, 0.0), 0.0)
        r *= self.marketing.paid_fraction()
        even = paid / paid.sum()
        target = even if r.sum() <= 0 else (1 - exploration) * r / r.sum() + exploration * even
        self.split = (1 - share) * self.split + share * target
        self.apply()

    def reset_split(self) -> None:
        """Back to the scenario's split (a new leader's plan); the total stays."""
        self.split = self.initial_split.copy()
        self.apply()


class AccountMarketing:
    """M9: embedded marketers as capacity: each works a limited number of key-account deals.

    An opportunity in a key-account segment is covered when it is created, if a
    place is free (``headcount x accounts_per_marketer`` places); it keeps its
    marketer until it is won or lost, when the place frees up. Only covered deals
    get the marketer's help (:class:`gtmsim.model.deals.DealRules`).
    """

    def __init__(self, spec, segments: list[str]) -> None:
        self.free = spec.headcount * spec.accounts_per_marketer
        self.key_segment = [s in spec.segments for s in segments]
        self.covered = 0  # opportunities covered so far

    def cover(self, card) -> None:
        """Assign a marketer to a new opportunity of a key account, if one has room."""
        if self.free and self.key_segment[card.segment]:
            self.free -= 1
            self.covered += 1
            card.covered = True

    def release(self, card) -> None:
        """A covered deal has closed (won or lost): its marketer can take another."""
        if card.covered:
            self.free += 1


class Quarters:
    """Sales' quarterly results against the AEs' quotas, and the streak of misses.

    A quarter's target is the quota of every AE seat in the plan at its start
    (selling, being refilled or frozen). Also the sales side of the quarter's
    end: reps behind pull slipping deals in at a discount.
    """

    def __init__(self, world) -> None:
        self.quota_usd_per_quarter = world.ae.spec.quota_usd_per_year * QUARTER_DAYS / 365.0
        self.targets_usd = [self.quota_usd_per_quarter * len(world.ae.reps)]
        self.bookings_usd: list[float] = []
        self.missed_streak = 0
        pay = world.scenario.incentives.sales
        self.push_days, self.discount = pay.quarter_end_days, pay.quarter_end_discount_share
        self.team_plan = pay.plan == "team"
        self._start_usd: dict[str, float] = {}  # each AE's bookings when the quarter began
        self.pulled_in = 0
        self.discounts_usd = 0.0

    def _booked(self, rep) -> float:
        return rep.bookings_usd - self._start_usd.get(rep.name, 0.0)

    def close_early(self, team, rep, window_open: float, now: float) -> bool:
        """Whether ``rep`` pulls a close that would slip to ``window_open`` into this quarter.

        Only in the quarter's last ``push_days``, for a deal that would close in
        a later quarter, and while the rep (on a team plan: the team) is behind.
        """
        if not self.push_days:
            return False
        end = (now // QUARTER_DAYS + 1) * QUARTER_DAYS
        if now < end - self.push_days or window_open < end:
            return False
        if self.team_plan:
            return sum(map(self._booked, team.reps)) < self.targets_usd[-1]
        return self._booked(rep) < self.quota_usd_per_quarter

    def discounted(self, size_usd: float) -> float:
        """The value of a deal pulled in, after the discount (which is recorded)."""
        self.pulled_in += 1
        self.discounts_usd += size_usd * self.discount
        return size_usd * (1.0 - self.discount)

    @property
    def missed(self) -> int:
        """Quarters closed below their target."""
        return sum(b < t for b, t in zip(self.bookings_usd, self.targets_usd, strict=False))

    def close(self, world, day: int) -> bool:
        """Close the quarter ending at ``day``; returns whether sales missed it."""
        weeks = world.rec.weekly_bookings_usd
        q = len(self.bookings_usd)
        booked = float(sum(weeks[13 * q : 13 * q + 13]))
        self.bookings_usd.append(booked)
        missed = booked < self.targets_usd[q]
        self.missed_streak = self.missed_streak + 1 if missed else 0
        return missed

    def open_next(self, world) -> None:
        """Start the next quarter: its target is the quota of every AE seat in the plan.

        Seats being refilled or frozen count: a vacancy does not lower the number.
        """
        seats = len(world.ae.reps) + world.org.staffing.open_seats("ae")
        self.targets_usd.append(self.quota_usd_per_quarter * seats)
        self._start_usd = {r.name: r.bookings_usd for r in world.ae.reps}


class Staffing:
    """Who leaves (M5 attrition) and who is signed (M9 hiring) at each quarter's end.

    A leaver's seat is refilled after the team's time to hire unless hiring is
    frozen after missed quarters; frozen seats are refilled once a quarter is
    on target. Under the share-of-bookings plan, new AE positions are added
    too. A new rep sells from halfway through the ramp. The last rep of a team
    (or of a segment, for reps dedicated to segments) stays.
    """

    def __init__(self, world) -> None:
        sc = world.scenario
        self.spec = sc.budget.hiring
        self.teams = {t.key: t for t in (world.ae, world.sdr)}
        self._draws = {
            k: stream(sc.simulation.seed, world.replication, f"{k}/attrition") for k in self.teams
        }
        self.quota_usd_per_year = world.ae.spec.quota_usd_per_year
        self.pending: list[tuple[float, int, str, float, int | None]] = []  # heap by start day
        self.frozen: list[tuple[str, int | None]] = []  # seats waiting for the freeze to end
        self.hired = dict.fromkeys(self.teams, 0)
        self.left = dict.fromkeys(self.teams, 0)
        self._marks: dict[str, list[float]] = {}  # an AE's bookings at the last 4 quarter ends
        self._seq = 0
        self._freeze_due = 0.0
        self._ae_share: float | None = None  # AE cost per dollar of trailing bookings

    def __call__(self, world, day: int) -> None:
        """Signed reps whose ramp has reached its midpoint start selling."""
        while self.pending and self.pending[0][0] <= day:
            _, _, key, paid_from, segment = heappop(self.pending)
            self.teams[key].hire(paid_from, segment)
            self.hired[key] += 1

    def quarter_end(self, world, day: int, missed_streak: int, year_usd: float | None) -> None:
        """Departures, then refilling (or freezing) seats, then new AE positions."""
        seats = self._departures(world)
        spec = self.spec
        if spec.backfill == "frozen_after_misses" and (
            missed_streak >= spec.freeze_after_missed_quarters
        ):
            for seat in seats:  # frozen_share of them, spread evenly over the departures
                self._freeze_due += spec.frozen_share
                if self._freeze_due >= 1.0:
                    self._freeze_due -= 1.0
                    self.frozen.append(seat)
                else:
                    self._sign(*seat, day)
        else:
            for key, segment in self.frozen + seats:
                self._sign(key, segment, day)
            self.frozen = []
        ae = world.ae
        cost = ae.spec.cost_usd_per_year
        if spec.rule == "share_of_bookings" and year_usd and cost:
            if self._ae_share is None:  # the first full year: "first_year" fixes the share
                seats = len(ae.reps) + self.open_seats("ae")
                first = seats * cost / year_usd
                self._ae_share = (
                    first if spec.bookings_share == "first_year" else spec.bookings_share
                )
            affordable = int(self._ae_share * year_usd // cost)
            gap = affordable - len(ae.reps) - self.open_seats("ae")
            for _ in range(max(0, min(gap, spec.max_hires_per_quarter))):
                self._sign("ae", None, day)

    def open_seats(self, key: str) -> int:
        """Seats of team ``key`` signed but not yet selling, or frozen."""
        return sum(p[2] == key for p in self.pending) + sum(k == key for k, _ in self.frozen)

    def _sign(self, key: str, segment: int | None, day: int) -> None:
        team = self.teams[key].spec
        paid_from = day + team.time_to_hire_days
        self._seq += 1
        heappush(
            self.pending, (paid_from + team.ramp_days / 2.0, self._seq, key, paid_from, segment)
        )

    def _departures(self, world) -> list[tuple[str, int | None]]:
        seats = []
        for key, team in self.teams.items():
            spec = team.spec
            low = spec.attrition_share_per_year_below_quota
            if not (spec.attrition_share_per_year or low) or not team.reps:
                continue
            u = self._draws[key].random(len(team.reps))
            for rep, ui in zip(list(team.reps), u.tolist(), strict=True):
                annual = spec.attrition_share_per_year
                if low is not None and team is world.ae:
                    below = self._below_quota(rep)
                    if below is None:  # not judged yet
                        annual = (annual + low) / 2.0
                    elif below:
                        annual = low
                if ui < 1.0 - (1.0 - annual) ** (QUARTER_DAYS / 365.0) and self._replaceable(
                    team, rep
                ):
                    team.leave(rep)
                    self.left[key] += 1
                    seats.append((key, rep.segment))
        for rep in world.ae.reps:
            self._marks[rep.name] = [*self._marks.get(rep.name, []), rep.bookings_usd][-4:]
        return seats

    @staticmethod
    def _replaceable(team, rep) -> bool:
        """A rep may leave unless they are the last of their team, or of their segment."""
        if rep.segment is not None and len(team.by_segment[rep.segment]) <= 1:
            return False
        return len(team.reps) > 1

    def _below_quota(self, rep) -> bool | None:
        """Whether the AE booked less than quota over the last four quarters.

        AEs are judged on a full year of bookings. Before that (a new hire, or
        anyone in the run's first year, while pipelines fill) their standing is
        unknown (None): they leave at the midpoint of the two rates, so that
        turnover does not jump when the first judgements arrive.
        """
        marks = self._marks.get(rep.name, [])
        if len(marks) < 4:
            return None
        return rep.bookings_usd - marks[0] < self.quota_usd_per_year * 4 * QUARTER_DAYS / 365.0


class MarketingKPI:
    """M7: marketing chases its KPI with the MQL threshold and the budget split."""

    every_days = 1

    def __init__(self, world, programmes: Programmes) -> None:
        spec = world.scenario.incentives.marketing
        self.spec, self.programmes = spec, programmes
        self.initial_threshold = world.marketing.mql_threshold
        self.target = spec.target_per_quarter
        self._start_units = np.zeros(world.marketing.outbound_channel)
        self._start_spend = np.zeros(world.marketing.outbound_channel)

    def __call__(self, world, day: int) -> None:
        spec = self.spec
        if spec.kpi == "none":
            return
        if day % QUARTER_DAYS == 0:
            self._quarter_start(world, day)
        into = day % QUARTER_DAYS
        last_days = into >= QUARTER_DAYS - spec.quarter_end_days
        if not spec.threshold_step_per_week or (day % 7 and not last_days) or into == 0:
            return
        done = kpi_by_channel(world, spec.kpi).sum() - self._start_units.sum()
        behind = done < self.target * into / QUARTER_DAYS
        mk = world.marketing
        step = spec.threshold_step_per_week
        if behind:
            mk.mql_threshold = max(spec.threshold_floor, mk.mql_threshold - step)
        elif not last_days:
            mk.mql_threshold = min(self.initial_threshold, mk.mql_threshold + step)

    def _quarter_start(self, world, day: int) -> None:
        units = kpi_by_channel(world, self.spec.kpi)
        spend = world.rec.spend_by_channel_usd[: len(units)].copy()
        if day > 0:
            gained, paid = units - self._start_units, spend - self._start_spend
            with np.errstate(divide="ignore", invalid="ignore"):
                per_usd = gained / paid
            self.programmes.shift_toward(
                per_usd, self.spec.reallocation_share_per_quarter, self.spec.exploration_share
            )
        self._start_units, self._start_spend = units, spend

    def sales_missed(self) -> None:
        """Sales asks for more leads: the target grows."""
        self.target *= 1.0 + self.spec.target_raise_after_sales_miss_share

    def reset(self, world) -> None:
        world.marketing.mql_threshold = self.initial_threshold
        self.target = self.spec.target_per_quarter


class Reviews:
    """M8: joint pipeline reviews on a cadence; each one costs the attendees' hours."""

    every_days = 7

    def __init__(self, world, programmes: Programmes) -> None:
        self.spec = world.scenario.feedback
        self.programmes = programmes
        self.held = 0
        self._last = 0  # day of the last review (a monthly cadence starts in week 4)
        self._judged = self._accepted = 0
        self._spend: list[np.ndarray] = []  # weekly snapshots of cumulative spend and bookings
        self._bookings: list[np.ndarray] = []

    def due(self, world, day: int) -> bool:
        cadence = self.spec.cadence
        if day == 0 or cadence == "never":
            return False
        if cadence == "weekly":
            return True
        if day - self._last < 28:
            return False
        return cadence == "monthly" or world.lead_team.mean_trust() < self.spec.ad_hoc_trust_below

    def __call__(self, world, day: int) -> None:
        n = world.marketing.outbound_channel
        self._spend.append(world.rec.spend_by_channel_usd[:n].copy())
        self._bookings.append(np.asarray(world.rec.bookings_by_channel_usd[:n], float))
        if not self.due(world, day):
            return
        spec, mk = self.spec, world.marketing
        self.held += 1
        self._last = day
        if spec.hours_per_attendee:
            for team in (world.ae, world.sdr):
                for rep in team.reps:
                    team.book_review(rep, day)
        mk.noise_sd -= spec.noise_reduction_share * max(0.0, mk.noise_sd - spec.noise_floor_sd)
        if spec.attribution == "won_revenue":
            back = max(0, len(self._spend) - 1 - ATTRIBUTION_DAYS // 7)
            won = self._bookings[-1] - self._bookings[back]
            spent = self._spend[-1] - self._spend[back]
            with np.errstate(divide="ignore", invalid="ignore"):
                per_usd = won / spent
            explore = world.scenario.incentives.marketing.exploration_share
            self.programmes.shift_toward(per_usd, spec.budget_shift_share, explore)
        self._recalibrate_trust(world)

    def _recalibrate_trust(self, world) -> None:
        rec = world.rec
        judged, accepted_new = rec.mqls_judged - self._judged, rec.mqls_accepted - self._accepted
        self._judged, self._accepted = rec.mqls_judged, rec.mqls_accepted
        share = self.spec.trust_recalibration_share
        if judged and share:
            observed = accepted_new / judged
            for rep in world.lead_team.reps:
                rep.trust += share * (observed - rep.trust)


class Organisation:
    """The org's dynamics of one run: KPI pressure, reviews, budget rule, leadership churn.

    One policy, called every day, so that the order of a quarter's end is fixed:
    sales' result first, then what marketing, the budget and the board do about it.
    """

    every_days = 1

    def __init__(self, world) -> None:
        sc = world.scenario
        self.budget, self.leadership = sc.budget, sc.leadership
        self.programmes = Programmes(world)
        self.quarters = Quarters(world)
        self.kpi = MarketingKPI(world, self.programmes)
        self.reviews = Reviews(world, self.programmes)
        self.staffing = Staffing(world)
        self.initial_noise = world.marketing.noise_sd
        self.leaders_replaced = 0
        self._budget_share: float | None = None  # marketing budget per dollar of bookings

    def __call__(self, world, day: int) -> None:
        if day and day % QUARTER_DAYS == 0:
            self._quarter_end(world, day)
        self.staffing(world, day)
        self.kpi(world, day)
        if day % 7 == 0:
            self.reviews(world, day)

    def _quarter_end(self, world, day: int) -> None:
        q = self.quarters
        missed = q.close(world, day)
        if missed:
            self.kpi.sales_missed()
        p, rule = self.programmes, self.budget.rule
        year = sum(q.bookings_usd[-4:]) if len(q.bookings_usd) >= 4 else None
        self.staffing.quarter_end(world, day, q.missed_streak, year)
        q.open_next(world)
        if rule == "share_of_bookings" and year:
            if self._budget_share is None:  # the first full year: "first_year" fixes the share
                whole = (p.total_usd_per_week + p.reserve_usd_per_week) * 52.0 / year
                share = self.budget.bookings_share
                self._budget_share = whole if share == "first_year" else share
            p.set_total(self._budget_share * year / 52.0)
        elif (
            rule == "cut_after_misses" and q.missed_streak >= self.budget.cut_after_missed_quarters
        ):
            p.total_usd_per_week *= 1.0 - self.budget.cut_share
            p.apply()
        k = self.leadership.churn_after_missed_quarters
        if k and q.missed_streak >= k:
            self._replace_leaders(world)

    def _replace_leaders(self, world) -> None:
        """New leaders: what the organisation had learned is lost."""
        self.leaders_replaced += 1
        self.quarters.missed_streak = 0
        world.marketing.noise_sd = self.initial_noise
        self.kpi.reset(world)
        self.programmes.reset_split()
        for team in (world.ae, world.sdr):
            for rep in team.reps:
                rep.trust = team.trust_initial


__all__ = [
    "AccountMarketing",
    "MarketingKPI",
    "Organisation",
    "Programmes",
    "Quarters",
    "Reviews",
    "Staffing",
]
