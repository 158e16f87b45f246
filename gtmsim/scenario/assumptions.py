"""Assumptions declared in scenario files: a number's value, its plausible range and a source.

Any numeric setting, and any number inside a distribution, may be written as a
*range table* instead of a bare number::

    [deals]
    enablement_share = { value = 0.05, low = 0.0, high = 0.1, source = "assumption" }

    [market.buying_window]
    length_days = { kind = "gamma", mean = { value = 120, low = 60, high = 180 }, cv = 0.5 }

The scenario runs with ``value``; ``low`` and ``high`` are both needed, with
``low <= value <= high`` (all three equal declare a known point), and each must
be a value the setting allows. ``source`` is optional text. Ranges are not
allowed on words, true/false settings, list items or the entries of a share or
headcount map (those must add up).

A range table is a table, so ``extends`` and ``--set`` merge it key by key: a
child (or ``--set``) that sets ``KEY.value`` keeps the inherited range and
source, one that sets ``KEY.high`` moves that end, and one that sets ``KEY`` to a
plain number states a fact for its design and drops the range.

Ranges are declarations, not settings: :meth:`Scenario.content_hash
<gtmsim.scenario.schema.Scenario.content_hash>` and ``model_dump`` leave them
out, so two files that differ only in their ranges simulate identically.
:meth:`Scenario.assumptions <gtmsim.scenario.schema.Scenario.assumptions>` lists
them; :func:`with_values` builds the scenario at a point of the ranges.
"""

from __future__ import annotations

import difflib
import functools
import typing
from collections.abc import Mapping
from typing import Any, NamedTuple

from pydantic import BaseModel, ValidationError

from gtmsim.scenario.dists import Constant
from gtmsim.scenario.errors import (
    NO_VALUE,
    KeyParts,
    Locate,
    Problem,
    ScenarioError,
    problems_from_validation_error,
)
from gtmsim.scenario.fields import (
    DIST_KINDS,
    describe_words,
    members,
    setting_kind,
    table_class,
)
from gtmsim.scenario.keys import dotted_key, split_key
from gtmsim.scenario.schema import Assumption, Scenario

RANGE_KEYS = {
    "value": "the value the scenario runs with",
    "low": "the lowest plausible value; one the setting allows",
    "high": "the highest plausible value; one the setting allows",
    "source": 'where the range comes from, such as "assumption" or a citation (optional)',
}
"""The keys of a range table and what each means; value, low and high are needed."""
_ENDS = ("value", "low", "high")
_DROP = object()  # the setting is taken out: it falls back to its default

Ranges = dict[tuple[str, ...], tuple[Any, Any, Any, "str | None"]]
"""Declared ranges by key parts: (value, low, high, source) as the file gives them."""


class Issue(NamedTuple):
    """Something wrong with a declared range, before it is placed in a file."""

    parts: KeyParts
    message: str
    value: Any = NO_VALUE
    hint: str | None = None


def split_ranges(
    data: dict[str, Any], model: type[BaseModel] = Scenario
) -> tuple[Ranges, list[Issue]]:
    """Replace every range table in ``data`` (in place) by its value.

    Parameters
    ----------
    data : dict
        Merged scenario data (plain dicts), as the loader builds it.
    model : type
        The settings class ``data`` is for.

    Returns
    -------
    ranges : dict
        The well-formed ranges by key parts, in the order the data sets them.
    issues : list of Issue
        Malformed ranges and ranges where none may be; such a setting keeps its
        value if it has a usable one, else falls back to its default.
    """
    ranges: Ranges = {}
    issues: list[Issue] = []
    _table(data, model, (), ranges, issues)
    return ranges, issues


def check_ends(data: dict[str, Any], ranges: Ranges, locate: Locate) -> list[Problem]:
    """Problems with each range's ends: a value the setting does not allow, or a broken rule.

    Each end is checked on the whole scenario with the other settings at their
    values, so a rule that spans settings (working-time shares that must leave
    some time) counts as well as the setting's own bounds.

    Parameters
    ----------
    data : dict
        The scenario data with every range replaced by its value; it validates.
    ranges : dict
        From :func:`split_ranges`.
    locate : callable
        ``locate(key_parts) -> (file, line)``, as for
        :func:`~gtmsim.scenario.errors.problems_from_validation_error`.

    Returns
    -------
    list of Problem
    """
    problems = []
    for parts, (value, low, high, _) in ranges.items():
        parent = _at(data, parts[:-1])
        for end, number in (("low", low), ("high", high)):
            if number == value:
                continue
            parent[parts[-1]] = number
            try:
                Scenario.model_validate(data)
            except ValidationError as exc:
                for p in problems_from_validation_error(exc, locate=locate):
                    problems.append(_end_problem(parts, end, number, p, locate))
            finally:
                parent[parts[-1]] = value
    return problems


def declare(scenario: Scenario, ranges: Ranges) -> Scenario:
    """Attach the declared ranges to a validated scenario (in place) and return it.

    Values, ends and sources are read as the setting takes them: whole numbers
    for a whole-number setting, floats otherwise.
    """
    found = {}
    for parts, (_, low, high, source) in ranges.items():
        value = _setting_value(scenario, parts)
        kind = type(value)
        found[dotted_key(parts)] = Assumption(value, kind(low), kind(high), source)
    scenario._assumptions = found
    return scenario


def with_values(scenario: Scenario, values: Mapping[str, float]) -> Scenario:
    """A copy of ``scenario`` with the numbers at some key paths replaced, validated.

    Meant for experiments over the declared ranges: each point of a sample
    becomes one scenario. The copy keeps the declared ranges, with their values
    moved to the new ones.

    Parameters
    ----------
    scenario : Scenario
        The scenario to start from.
    values : Mapping of str to float
        Dotted key paths of numeric settings (or of numbers inside a
        distribution, or of a distribution that is a bare number) to values,
        e.g. ``{"deals.enablement_share": 0.08}``. A whole-number setting takes
        a float that is a whole number.

    Returns
    -------
    Scenario
        A new scenario; ``scenario`` is unchanged.

    Raises
    ------
    ScenarioError
        For a path that names no number of the scenario, a value outside the
        range the scenario declares for it, or a value the schema rejects.
    """
    data = scenario.model_dump()
    declared = scenario.assumptions()
    problems = []
    for key, number in values.items():
        parts = split_key(key)
        message = _put(data, parts, number)
        assumption = declared.get(dotted_key(parts))
        if message is None and assumption and not assumption.low <= number <= assumption.high:
            message = (
                f"lies outside the range the scenario declares, "
                f"[{assumption.low:g}, {assumption.high:g}]"
            )
        if message:
            problems.append(Problem(None, dotted_key(parts), message, number))
    if problems:
        raise ScenarioError(problems)
    try:
        new = type(scenario).model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(problems_from_validation_error(exc)) from None
    new._assumptions = {
        key: a._replace(value=_setting_value(new, split_key(key))) for key, a in declared.items()
    }
    return new


# --------------------------------------------------------------------------- walking the data


class _Field(NamedTuple):
    """What the walk needs to know of one field, worked out once per settings class."""

    kind: str  # see fields.setting_kind
    tp: Any
    table: type[BaseModel] | None = None  # a table's class, or a map's or list's entries'
    inner_kind: str | None = None  # what a map's or list's entries are


@functools.cache
def _fields(model: type[BaseModel]) -> dict[str, _Field]:
    out = {}
    for name, field in model.model_fields.items():
        kind, tp = setting_kind(field.annotation), field.annotation
        if kind == "table":
            out[name] = _Field(kind, tp, table_class(tp))
        elif kind in ("map", "list"):
            inner = typing.get_args(next(m for m in members(tp) if m is not type(None)))[-1]
            inner_kind = setting_kind(inner)
            table = table_class(inner) if inner_kind == "table" else None
            out[name] = _Field(kind, tp, table, inner_kind)
        else:
            out[name] = _Field(kind, tp)
    return out


def _table(
    node: Any, model: type[BaseModel], parts: KeyParts, ranges: Ranges, issues: list[Issue]
) -> None:
    if not isinstance(node, dict):
        return  # pydantic says what is wrong
    fields = _fields(model)
    for key in list(node):
        if key not in fields:
            continue
        new = _setting(node[key], fields[key], (*parts, key), ranges, issues)
        if new is _DROP:
            del node[key]
        else:
            node[key] = new


def _setting(
    value: Any, field: _Field, parts: KeyParts, ranges: Ranges, issues: list[Issue]
) -> Any:
    """The setting's value with any range table replaced by its value."""
    kind = field.kind
    if kind == "table":
        _table(value, field.table, parts, ranges, issues)
        return value
    if kind in ("map", "list"):
        _no_ranges_inside(value, field, parts, ranges, issues)
        return value
    if not _is_range(value):
        if kind == "dist" and isinstance(value, dict) and value.get("kind") in DIST_KINDS:
            _table(value, DIST_KINDS[value["kind"]], parts, ranges, issues)
        return value
    if kind in ("number", "dist"):
        return _declared(value, parts, ranges, issues)
    takes = "true or false" if kind == "bool" else describe_words(field.tp)
    issues.append(Issue(parts, f"takes {takes}: a range (value, low, high) is for numbers only"))
    return _DROP


def _no_ranges_inside(
    value: Any, field: _Field, parts: KeyParts, ranges: Ranges, issues: list[Issue]
) -> None:
    """Walk the tables of a map of tables; refuse ranges on entries of lists and value maps."""
    items = value.items() if field.kind == "map" and isinstance(value, dict) else []
    if field.kind == "list" and isinstance(value, list):
        items = enumerate(value)
    for name, entry in list(items):
        if field.inner_kind == "table":
            _table(entry, field.table, (*parts, name), ranges, issues)
        elif _is_range(entry):
            what = "an item of a list" if field.kind == "list" else "an entry of a table of values"
            issues.append(
                Issue(
                    (*parts, name),
                    f"is {what}: declare ranges on whole settings and on the numbers of a "
                    "distribution, not here (entries must add up or line up)",
                )
            )
            if _is_number(entry.get("value")):
                value[name] = entry["value"]


def _declared(node: dict[str, Any], parts: KeyParts, ranges: Ranges, issues: list[Issue]) -> Any:
    """Check a range table, note it if it is well formed, and give the value in its place."""
    for key in node:
        if key not in RANGE_KEYS:
            close = difflib.get_close_matches(key, list(RANGE_KEYS), n=1, cutoff=0.5)
            issues.append(
                Issue(
                    (*parts, key),
                    "unknown key in a range; a range takes value, low, high and source",
                    hint=f"did you mean {close[0]!r}?" if close else None,
                )
            )
    if missing := [k for k in _ENDS if k not in node]:
        issues.append(
            Issue(parts, f"a range needs value, low and high; missing: {', '.join(missing)}")
        )
    numbers = True
    for key in _ENDS:
        if key in node and not _is_number(node[key]):
            issues.append(Issue((*parts, key), "must be a number", node[key]))
            numbers = False
    source = node.get("source")
    if source is not None and not isinstance(source, str):
        issues.append(Issue((*parts, "source"), "must be text in quotes", source))
    if numbers and not missing:
        value, low, high = (node[k] for k in _ENDS)
        if low > high:
            issues.append(
                Issue(
                    (*parts, "low"), f"is above high ({high:g}): a range runs from low to high", low
                )
            )
        elif not low <= value <= high:
            issues.append(
                Issue(
                    (*parts, "value"),
                    f"lies outside the declared range [{low:g}, {high:g}] (low <= value <= high)",
                    value,
                )
            )
        else:
            ranges[tuple(parts)] = (value, low, high, source if isinstance(source, str) else None)
    return node.get("value", _DROP)


def _end_problem(parts: KeyParts, end: str, number: Any, p: Problem, locate: Locate) -> Problem:
    file, line = locate((*parts, end))
    if p.key == dotted_key(parts):
        message = f"the range's {end} end is not a value this setting allows: it {p.message}"
    else:
        message = f"the range's {end} end breaks a rule: {p.key}: {p.message}"
    return Problem(file, dotted_key((*parts, end)), message, number, line, p.hint)


def _is_range(node: Any) -> bool:
    """A table that is meant as a range: it has value, low or high, and is no distribution."""
    return isinstance(node, Mapping) and "kind" not in node and any(k in node for k in _ENDS)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _at(data: Any, parts: KeyParts) -> Any:
    for part in parts:
        data = data[part]
    return data


def _setting_value(scenario: Scenario, parts: KeyParts) -> Any:
    """The number a scenario holds at ``parts`` (a constant distribution's value)."""
    node: Any = scenario
    for part in parts:
        node = node[part] if isinstance(node, dict) else getattr(node, part)
    return node.value if isinstance(node, Constant) else node


def _put(data: dict[str, Any], parts: KeyParts, number: Any) -> str | None:
    """Set the number at ``parts`` of dumped scenario data; what is wrong, if anything."""
    if not _is_number(number):
        return "must be a number"
    node: Any = data
    for i, part in enumerate(parts):
        if not isinstance(node, dict) or part not in node:
            return f"names no setting of the scenario ({dotted_key(parts[: i + 1])} is not one)"
        if i < len(parts) - 1:
            node = node[part]
    current = node[parts[-1]]
    if isinstance(current, dict) and current.get("kind") != "constant":
        return "is a table, not a number: name one of its numbers"
    if isinstance(current, bool | str):
        return "is not a numeric setting"
    if isinstance(current, int) and isinstance(number, float):
        if not number.is_integer():
            return "must be a whole number"
        number = int(number)
    node[parts[-1]] = number
    return None
