"""The scenario reference: every key of a scenario file, generated from the schema.

``python -m gtmsim.scenario.reference > docs/scenario-reference.md`` rewrites the
committed copy; a test fails when that copy is stale.
"""

from __future__ import annotations

import typing
from collections.abc import Iterator
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from gtmsim.scenario.assumptions import RANGE_KEYS
from gtmsim.scenario.dists import KINDS
from gtmsim.scenario.fields import constraints, dist_check, is_dist, is_model, members, strip
from gtmsim.scenario.loader import MAX_DEPTH, MAX_FILE_BYTES, NAMED_TABLES, NEW_KEY
from gtmsim.scenario.schema import Scenario

_BOUNDS = (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<"))


def _dist_bounds(field: FieldInfo) -> str:
    """The range a distribution's values must lie in, from its validator."""
    check = dist_check(field)
    if check is None:
        return ""
    lo, hi = check.bounds
    text = f"values >= {lo:g}" if hi == float("inf") else f"values in [{lo:g}, {hi:g}]"
    if check.positive_mean:
        text += ", mean > 0"
    if check.max_mean < float("inf"):
        text += f", mean <= {check.max_mean:g}"
    return text


def _describe_type(tp: Any) -> str:
    names = ["distribution"] if is_dist(tp) else []
    for m in members(tp):
        if is_model(m) and hasattr(m, "support"):
            continue  # one of the distribution kinds
        if m is type(None):
            names.append('"none"')
        elif typing.get_origin(m) is Literal:
            names.append(" / ".join(f'"{a}"' for a in typing.get_args(m)))
        elif typing.get_origin(m) is list:
            inner = _describe_type(typing.get_args(m)[0])
            names.append(f"list of {'words' if 'Literal' in str(m) else inner}")
        elif typing.get_origin(m) is dict:
            names.append(f"table of {_describe_type(typing.get_args(m)[1])}")
        else:
            names.append(getattr(m, "__name__", str(m)))
    return " or ".join(names)


def _bounds(field: FieldInfo) -> str:
    if is_dist(field.annotation):
        return _dist_bounds(field)
    found = []
    for meta in constraints(field):
        for attr, sign in _BOUNDS:
            value = getattr(meta, attr, None)
            if value is not None:
                found.append(f"{sign} {value:g}")
    return ", ".join(found)


def _default(field: FieldInfo) -> str:
    value = field.get_default(call_default_factory=True)
    if value is None:
        return '"none"'
    if isinstance(value, BaseModel):
        if hasattr(value, "kind"):
            body = ", ".join(f"{k} = {v!r}" for k, v in value.model_dump().items() if v is not None)
            return "{ " + body.replace("'", '"') + " }"
        return "(table)"
    if isinstance(value, dict):
        return "(table)" if value and is_model(type(next(iter(value.values())))) else repr(value)
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list) and len(value) > 3 and len(set(value)) == 1:
        return f"[{value[0]!r}] x {len(value)}"
    return repr(value).replace("'", '"')


def rows(model: type[BaseModel] = Scenario, prefix: str = "") -> Iterator[tuple[str, ...]]:
    """(key, type, default, range, meaning) for every setting, depth first."""
    for name, field in model.model_fields.items():
        key = f"{prefix}{name}"
        tp = field.annotation
        inner = [m for m in members(tp) if is_model(m)]
        if inner and not is_dist(tp):
            yield from rows(inner[0], f"{key}.")
            continue
        if typing.get_origin(strip(tp)) is dict:
            value_tp = strip(typing.get_args(strip(tp))[1])
            if is_model(value_tp):
                yield (f"{key}.NAME", "table", "", "", (field.description or "").strip())
                if what := NAMED_TABLES.get(tuple(key.split("."))):
                    yield (
                        f"{key}.NAME.{NEW_KEY}",
                        "bool",
                        "false",
                        "",
                        f"true: a new {what}, not a misspelt name of one the file extends "
                        "(needed only for a name within a typo or two of an inherited one)",
                    )
                yield from rows(value_tp, f"{key}.NAME.")
                continue
        yield (
            key,
            _describe_type(tp),
            _default(field),
            _bounds(field),
            (field.description or "").strip(),
        )


def render() -> str:
    """The reference as Markdown."""
    out = [
        "# Scenario reference",
        "",
        "Every key a scenario file can set, generated from the schema",
        "(`python -m gtmsim.scenario.reference > docs/scenario-reference.md`).",
        "Units are in the key names. `NAME` stands for a name you choose (a segment,",
        "a channel, a deal stage). A *distribution* is a bare number (a constant) or a",
        "table with a `kind`: " + ", ".join(f"`{k}`" for k in KINDS) + " (see the README).",
        'Optional settings are switched off with the word `"none"`.',
        "",
        "A file that extends another and adds a segment, channel or deal stage whose",
        "name is within a typo or two of an inherited one (`clsoe` next to `close`) is",
        "refused as a likely misspelling, unless the new table says `new = true`.",
        "Every number must be finite and within its range (the upper bounds lie far",
        "beyond any real organisation); a file may be at most",
        f"{MAX_FILE_BYTES // 1_000_000} MB and nest at most {MAX_DEPTH} levels deep,",
        "and an empty file is refused.",
        "",
        "| key | type | default | range | meaning |",
        "|---|---|---|---|---|",
    ]
    for key, tp, default, bounds, meaning in rows():
        cells = (f"`{key}`", tp, f"`{default}`" if default else "", bounds, meaning)
        out.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    out += _ASSUMPTIONS.splitlines()
    for key, meaning in RANGE_KEYS.items():
        kind = "str" if key == "source" else "number"
        out.append(f"| `KEY.{key}` | {kind} | {meaning} |")
    return "\n".join(out) + "\n"


_ASSUMPTIONS = """
## Assumptions: a range and a source on a number

Any setting of type float or int above (optional ones too), a distribution
given as a bare number, and any number inside a distribution (a gamma's
`mean`, a beta's `a`) may be written as a *range table* that declares it an
assumption:

```toml
[deals]
enablement_share = { value = 0.05, low = 0.0, high = 0.1, source = "assumption" }

[market.buying_window]
length_days = { kind = "gamma", mean = { value = 120, low = 60, high = 180 }, cv = 0.5 }
```

The scenario runs with `value`. `low <= value <= high` (all three equal: a
known point), and each end must be a value the setting allows with every other
setting as it is. Words, true/false settings, list items and the entries of a
share or headcount map take no range.

A range table merges like any table: in a file that extends this one, or in
`--set`, `KEY.value = v` keeps the range and source and moves the value,
`KEY.high = h` moves one end, and `KEY = v` (a plain number) fixes the setting
for that design and drops its range. Ranges are not settings: the scenario
hash leaves them out, and two files that differ only in their ranges simulate
identically. `gtmsim explain` shows each range with its source.

| key | type | meaning |
|---|---|---|"""


if __name__ == "__main__":
    print(render(), end="")
