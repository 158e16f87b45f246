"""The levers of the live page, generated from the scenario schema.

A lever is a setting the room can move: its kind (a slider or a choice), its
unit, its bounds and its help text come from the schema's annotations
(:mod:`gtmsim.scenario.fields`), its current value from the design's scenario.
Which settings are levers is the one list below; the page draws whatever it is
given, so adding a setting here is all a new lever takes. Submitted values are
checked against the lever (a number, one of the words) and then validated by
loading the scenario with them as overrides, so every rule of the schema applies
and a bad value comes back as a message naming the key.
"""

from __future__ import annotations

import math
import typing
from dataclasses import dataclass
from typing import Any, Literal

from pydantic.fields import FieldInfo

from gtmsim.scenario.errors import _UNITS, Problem
from gtmsim.scenario.fields import constraints, is_model, members, setting_kind, strip
from gtmsim.scenario.keys import dotted_key, split_key
from gtmsim.scenario.schema import Scenario


@dataclass(frozen=True)
class LeverSpec:
    """Which setting a lever moves and how far the slider reaches.

    ``key`` may hold one ``*`` for the names of a table (one lever per channel).
    ``high`` is where a slider ends when the schema's own bound is far beyond any
    real organisation (``scale`` times the current value, at least ``high``).
    """

    key: str
    label: str
    low: float | None = None
    high: float | None = None
    scale: float | None = None
    step: float | None = None
    shared: bool = False  # applied to the baseline too (the horizon: pairs must match)


LEVERS: tuple[LeverSpec, ...] = (
    LeverSpec("handoff.sla_hours", "Response SLA", low=0.5, high=72, step=0.5),
    LeverSpec("handoff.qualifier", "Who qualifies MQLs"),
    LeverSpec("handoff.route", "Lead routing"),
    LeverSpec("sales.sdr.headcount", "SDR headcount", high=20, scale=2),
    LeverSpec("sales.ae.headcount", "AE headcount", high=20, scale=2),
    LeverSpec("marketing.scoring.mql_threshold", "MQL threshold", high=1.0, step=0.01),
    LeverSpec("incentives.marketing.kpi", "Marketing paid on"),
    LeverSpec("incentives.sales.plan", "Sales pay plan"),
    LeverSpec("incentives.sales.sdr_paid_on", "SDRs paid on"),
    LeverSpec("feedback.cadence", "Joint pipeline review"),
    LeverSpec(
        "market.channels.*.spend_usd_per_week", "Spend: {name}", high=20000, scale=3, step=500
    ),
    LeverSpec("simulation.horizon_days", "Simulated days", low=30, high=730, step=5, shared=True),
)
"""The settings the page offers, in the order it shows them."""


def _field(parts: tuple[str, ...]) -> FieldInfo:
    """The schema field of a key path (through tables and named tables)."""
    tp: Any = Scenario
    field = None
    for part in parts:
        tp = strip(tp)
        model = next((m for m in members(tp) if is_model(m)), None)
        if model is not None and part in model.model_fields:
            field = model.model_fields[part]
            tp = field.annotation
        elif typing.get_origin(tp) is dict:
            tp = typing.get_args(tp)[1]
        else:
            raise KeyError(dotted_key(parts))
    if field is None:
        raise KeyError(dotted_key(parts))
    return field


def _value(scenario: Scenario, parts: tuple[str, ...]) -> Any:
    node: Any = scenario
    for part in parts:
        node = node[part] if isinstance(node, dict) else getattr(node, part)
    return node


def _unit(key: str) -> str:
    name = split_key(key)[-1]
    if name.endswith("headcount"):
        return "people"
    return next((unit for suffix, unit in _UNITS if name.endswith(suffix)), "")


def _bounds(field: FieldInfo) -> tuple[float, float]:
    low, high = -math.inf, math.inf
    for meta in constraints(field):
        for attr in ("ge", "gt"):
            if getattr(meta, attr, None) is not None:
                low = max(low, float(getattr(meta, attr)))
        for attr in ("le", "lt"):
            if getattr(meta, attr, None) is not None:
                high = min(high, float(getattr(meta, attr)))
    return low, high


def _nice_step(span: float) -> float:
    raw = span / 100
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


def describe(spec: LeverSpec, key: str, scenario: Scenario, name: str = "") -> dict[str, Any]:
    """One lever as the page draws it: kind, label, unit, range, choices, value, help."""
    parts = split_key(key)
    field = _field(parts)
    kinds = members(field.annotation)
    lever: dict[str, Any] = {
        "key": key,
        "label": spec.label.format(name=name.replace("_", " ")),
        "help": field.description or "",
        "unit": _unit(key),
        "value": _value(scenario, parts),
        "optional": type(None) in kinds,
        "shared": spec.shared,
    }
    kind = setting_kind(field.annotation)
    if kind == "number":
        integer = all(m is int for m in kinds if m is not type(None))
        low, high = _bounds(field)
        value = lever["value"]
        lo = spec.low if spec.low is not None else low
        hi = spec.high if spec.high is not None else high
        if spec.scale and isinstance(value, int | float):
            hi = max(hi, spec.scale * value)
        lo, hi = max(lo, low), min(hi, high)
        if isinstance(value, int | float):
            lo, hi = min(lo, value), max(hi, value)
        step = 1 if integer else spec.step or _nice_step(hi - lo)
        lever.update(kind="number", integer=integer, min=lo, max=hi, step=step)
    elif kind == "word":
        words = [a for m in kinds if typing.get_origin(m) is Literal for a in typing.get_args(m)]
        lever.update(kind="choice", choices=words)
    else:  # a lever list entry the page cannot draw: a programming error, found by the tests
        raise TypeError(f"{key}: a {kind} setting cannot be a lever")
    return lever


def levers(scenario: Scenario) -> list[dict[str, Any]]:
    """Every lever of :data:`LEVERS` for a design, with the design's values."""
    out = []
    for spec in LEVERS:
        if "*" in spec.key:
            head, _, tail = spec.key.partition(".*.")
            for name in _value(scenario, split_key(head)):
                key = dotted_key((*split_key(head), name, *split_key(tail)))
                out.append(describe(spec, key, scenario, name))
        else:
            out.append(describe(spec, spec.key, scenario))
    return out


def check(values: Any, offered: list[dict[str, Any]]) -> tuple[dict[str, Any], list[Problem]]:
    """Submitted lever values as overrides, or the problems with them.

    Only the form of each value is checked here (a number for a slider, one of
    the words for a choice, "none" only where the setting is optional); whether
    it is allowed is the schema's to say when the scenario is loaded with them.
    """
    if not isinstance(values, dict):
        return {}, [Problem(None, "levers", "expected a table of lever values")]
    by_key = {lever["key"]: lever for lever in offered}
    overrides: dict[str, Any] = {}
    problems = []
    for key, value in values.items():
        lever = by_key.get(key)
        if lever is None:
            problems.append(Problem(None, str(key)[:200], "is not a lever of this page"))
            continue
        if value is None or value == "none":
            if lever["optional"]:
                overrides[key] = "none"
            else:
                problems.append(Problem(None, key, "needs a value", value))
        elif lever["kind"] == "choice":
            if value in lever["choices"]:
                overrides[key] = value
            else:
                words = ", ".join(f'"{w}"' for w in lever["choices"])
                problems.append(Problem(None, key, f"expected one of {words}", str(value)[:60]))
        elif (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            problems.append(Problem(None, key, "expected a number", str(value)[:60]))
        elif lever["integer"]:
            if value != int(value):
                problems.append(Problem(None, key, "expected a whole number", value))
            else:
                overrides[key] = int(value)
        else:
            overrides[key] = float(value)
    return overrides, problems
