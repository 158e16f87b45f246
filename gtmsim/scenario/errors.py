"""Scenario errors that a non-programmer can act on: file, line, key, what is wrong, a hint.

Every problem with a scenario (unreadable file, bad TOML, circular ``extends``,
a value out of range, a misspelt key) becomes a :class:`Problem`; all problems
found at once travel together in one :class:`ScenarioError`.
"""

from __future__ import annotations

import difflib
import json
import re
import types
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError

from gtmsim.scenario.dists import KINDS
from gtmsim.scenario.keys import KEY_PART, KeyParts, dotted_key, split_key
from gtmsim.scenario.schema import Scenario

__all__ = [
    "NO_VALUE",
    "KeyParts",
    "Locate",
    "Problem",
    "ScenarioError",
    "dotted_key",
    "find_line",
    "key_lines",
    "problems_from_validation_error",
]


class _NoValue:
    def __repr__(self) -> str:
        return "NO_VALUE"


NO_VALUE: Any = _NoValue()
"""The :attr:`Problem.value` of a problem that is not about one given value."""

Locate = Callable[[KeyParts], tuple[str | None, int | None]]

# Units are in the field names; the longest matching suffix wins.
_UNITS = (
    ("_usd_per_week", "USD per week"),
    ("_usd_per_year", "USD per year"),
    ("_usd", "USD"),
    ("_per_week", "per week"),
    ("_hours", "hours"),
    ("_hour", "hour of the day, 0 to 24"),
    ("_days", "days"),
    ("_share", "a share, 0 to 1"),
    ("_probability", "a probability, 0 to 1"),
)
_BOUNDS = {
    "greater_than": ("gt", ">"),
    "greater_than_equal": ("ge", ">="),
    "less_than": ("lt", "<"),
    "less_than_equal": ("le", "<="),
}
_TYPES = {
    "float": "a number",
    "int": "a whole number",
    "bool": "true or false",
    "string": "text in quotes",
    "list": "a list in square brackets",
}
_NO_UNIT = {
    "extra_forbidden",
    "missing",
    "literal_error",
    "union_tag_invalid",
    "union_tag_not_found",
}
_DIST_EXAMPLE = '{kind = "gamma", mean = 2, cv = 0.5}'
_DOTTED = rf"{KEY_PART}(?:\s*\.\s*{KEY_PART})*"
_LEADING_KEY = re.compile(rf"({KEY_PART}(?:\.{KEY_PART})+):? ")  # a rule names its key first
_HEADER_RE = re.compile(rf"^\s*\[\[?\s*({_DOTTED})\s*\]")
_ASSIGN_RE = re.compile(rf"^\s*({_DOTTED})\s*=")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a scenario.

    Attributes
    ----------
    file : str or None
        The file as the user named it; None for an in-memory mapping or an override.
    key : str
        Dotted key path, e.g. ``market.channels.paid_search.spend_usd_per_week``;
        empty for a problem with the whole file.
    message : str
        What is wrong and what was expected.
    value : object
        The value given, or :data:`NO_VALUE`.
    line : int or None
        1-based line in ``file`` where the key is set, when it could be found.
    hint : str or None
        A suggestion, e.g. ``did you mean 'spend_usd_per_week'?``.
    """

    file: str | None
    key: str
    message: str
    value: object = NO_VALUE
    line: int | None = None
    hint: str | None = None

    def __str__(self) -> str:
        where = ""
        if self.file is not None:
            file = printable(self.file)
            where = f"{file}:{self.line}: " if self.line else f"{file}: "
        what = printable(self.key)
        if self.key and self.value is not NO_VALUE and not isinstance(self.value, Mapping):
            what += f" = {_show(self.value)}"
        message = printable(self.message)
        text = f"{where}{what}: {message}" if what else f"{where}{message}"
        return text + (f"\n    hint: {printable(self.hint)}" if self.hint else "")


def printable(text: str) -> str:
    """``text`` with control and format characters escaped (``\\x1b``, ``\\u202e``).

    Names come from the user's file: a channel called ``"\\x1b[2J"`` must not
    clear the terminal that shows the error, nor a right-to-left mark turn it round.
    """
    return "".join(
        c.encode("unicode_escape").decode("ascii")
        if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp")
        else c
        for c in text
    )


class ScenarioError(Exception):
    """A scenario could not be loaded; ``problems`` lists every reason found.

    Parameters
    ----------
    problems : sequence of Problem
        At least one problem.
    """

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__(self.problems)

    def __str__(self) -> str:
        return "\n".join(map(str, self.problems))


def find_line(text: str | None, parts: KeyParts) -> int | None:
    """Best-effort 1-based line where TOML text sets the key ``parts`` (or its nearest table).

    Parameters
    ----------
    text : str or None
        The TOML source; None gives None.
    parts : tuple of str or int
        The key path; list positions (int) are ignored.

    Returns
    -------
    int or None
        The first line that sets the key, else the deepest enclosing table, else
        the first table inside it; None if the text does not mention the key.
    """
    target = [p for p in parts if isinstance(p, str)]
    best, best_len = None, 0
    for number, path, _ in key_lines(text):
        depth = min(len(path), len(target))  # a table, its key, or a table inside it
        if depth > best_len and path[:depth] == target[:depth]:
            best, best_len = number, depth
    return best


def key_lines(text: str | None) -> Iterator[tuple[int, list[str], bool]]:
    """Every line of TOML text that opens a table or sets a key, best effort.

    Parameters
    ----------
    text : str or None
        The TOML source; None gives nothing.

    Yields
    ------
    tuple of (int, list of str, bool)
        The 1-based line, the full key path (table and key), and whether the
        line is a table header.
    """
    table: list[str] = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        if m := _HEADER_RE.match(line):
            table = list(split_key(m[1]))
            yield number, table, True
        elif m := _ASSIGN_RE.match(line):
            yield number, [*table, *split_key(m[1])], False


def problems_from_validation_error(
    exc: ValidationError,
    *,
    file: str | None = None,
    source_text: str | None = None,
    locate: Locate | None = None,
) -> list[Problem]:
    """Turn every error of a failed :class:`Scenario` validation into a :class:`Problem`.

    Parameters
    ----------
    exc : pydantic.ValidationError
        Raised by ``Scenario.model_validate``.
    file : str or None
        The file the data came from (None for an in-memory mapping).
    source_text : str or None
        That file's TOML text, to find line numbers in.
    locate : callable, optional
        ``locate(key_parts) -> (file, line)``; replaces ``file`` and ``source_text``
        when the scenario is spread over several files.

    Returns
    -------
    list of Problem
        One problem per error, in pydantic's order.
    """
    locate = locate or (lambda parts, *also: (file, find_line(source_text, parts)))
    problems = []
    for err in exc.errors(include_url=False):
        message = str(err.get("ctx", {}).get("error", ""))
        if err["type"] == "value_error" and "\n" in message:  # a rule found several problems
            for line in message.splitlines():
                problems.append(_problem({**err, "ctx": {**err["ctx"], "error": line}}, locate))
        else:
            problems.append(_problem(err, locate))
    return problems


def _problem(err: Any, locate: Locate) -> Problem:
    parts, owner, annotation = _walk(err["loc"])
    kind, ctx, value = err["type"], err.get("ctx", {}), err["input"]
    hint = None
    unit = None if kind in _NO_UNIT else _unit(parts, owner)
    where = parts
    if kind == "extra_forbidden":
        allowed = list(owner.model_fields) if owner else []
        message = "unknown setting" + (f"; allowed here: {', '.join(allowed)}" if allowed else "")
        hint = _did_you_mean(str(parts[-1]), allowed)
    elif kind in ("value_error", "assertion_error"):
        message = str(ctx.get("error", err["msg"]))
        if m := _LEADING_KEY.match(message):  # it names the key it is about
            where = parts + split_key(m[1])
            parts, message = where, message[m.end() :]
            value = NO_VALUE
            unit = None
            others = [
                tuple(k.split(".")) for k in re.findall(r"\b[a-z_]+(?:\.[a-z_]+)+\b", message)
            ]
            file, line = locate(where, *others)
            return Problem(file, dotted_key(parts), message, value, line, hint)
    elif kind in _BOUNDS:
        name, sign = _BOUNDS[kind]
        message = f"must be {sign} {ctx[name]:g}"
    elif kind == "literal_error":
        message = f"must be one of {ctx['expected']}"
        hint = _did_you_mean(str(value), re.findall(r"'([^']*)'", ctx["expected"]))
    elif kind == "union_tag_invalid":
        message = f"unknown distribution kind {ctx['tag']!r}; kind must be one of {_kinds()}"
        hint = _did_you_mean(str(ctx["tag"]), list(KINDS))
    elif kind == "union_tag_not_found":
        message = f"a distribution needs a kind ({_kinds()}), or give a bare number for a constant"
    elif _is_dist(annotation) and kind in ("model_attributes_type", "model_type", "dict_type"):
        message = f"must be a number or a distribution such as {_DIST_EXAMPLE}"
    elif kind in ("model_type", "model_attributes_type", "dict_type"):
        message = f"must be a table: a [{dotted_key(parts)}] section or {{key = value, ...}}"
    elif kind in ("too_short", "too_long", "string_too_short", "string_too_long"):
        bound = "at least" if "short" in kind else "at most"
        n = ctx.get("min_length", ctx.get("max_length"))
        message = f"needs {bound} {n} " + ("character(s)" if "string" in kind else "item(s)")
        message += f", got {ctx['actual_length']}" if "actual_length" in ctx else ""
    elif kind == "missing":
        message, value = "is required but missing", NO_VALUE
    elif m := re.fullmatch(r"(\w+?)_(type|parsing|from_float)", kind):
        message = f"must be {_TYPES.get(m[1], m[1])}"
        if _optional(owner, parts):
            message += ', or the word "none" to switch it off'
    else:
        message = re.sub(r"^(Value error|Assertion failed), ", "", err["msg"])
        message = re.sub(r"^Input should be ", "must be ", message)
    if unit and unit not in message:
        message += f" ({unit})"
    file, line = locate(where)
    return Problem(file, dotted_key(parts), message, value, line, hint)


def _optional(owner: type[BaseModel] | None, parts: KeyParts) -> bool:
    """Whether the setting accepts the word "none" (an optional setting)."""
    if owner is None or not parts or parts[-1] not in owner.model_fields:
        return False
    return "None" in str(owner.model_fields[parts[-1]].annotation)


def _walk(loc: tuple[str | int, ...]) -> tuple[KeyParts, type[BaseModel] | None, Any]:
    """Follow ``loc`` through the schema: (user's key parts, model owning the last key, its type).

    Pydantic puts the chosen member of a union (a distribution's kind) into ``loc``;
    those are not keys the user wrote and are dropped.
    """
    parts: list[str | int] = []
    owner: type[BaseModel] | None = None
    tp: Any = Scenario
    for item in loc:
        tp = _unwrap(tp)
        origin = get_origin(tp)
        if origin in (Union, types.UnionType):  # the member pydantic tried: not a user key
            tp = next((m for m in get_args(tp) if _tag(m) == item), None)
            continue
        parts.append(item)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            owner = tp
            tp = tp.model_fields[item].annotation if item in tp.model_fields else None
        elif origin in (dict, list):
            tp = get_args(tp)[-1]
        else:
            tp = None
    return tuple(parts), owner, _unwrap(tp)


def _unwrap(tp: Any) -> Any:
    """Strip ``Annotated`` and ``X | None`` (pydantic does not name those in ``loc``)."""
    while True:
        if get_origin(tp) is Annotated:
            tp = get_args(tp)[0]
        elif get_origin(tp) in (Union, types.UnionType) and type(None) in get_args(tp):
            rest = [a for a in get_args(tp) if a is not type(None)]
            tp = rest[0] if len(rest) == 1 else Union[tuple(rest)]  # noqa: UP007
        else:
            return tp


def _tag(member: Any) -> Any:
    if isinstance(member, type) and issubclass(member, BaseModel) and "kind" in member.model_fields:
        return member.model_fields["kind"].default
    return getattr(member, "__name__", None)


def _is_dist(tp: Any) -> bool:
    return get_origin(tp) in (Union, types.UnionType) and all(
        _tag(m) in KINDS for m in get_args(tp)
    )


def _unit(parts: KeyParts, owner: type[BaseModel] | None) -> str | None:
    names = [p for p in parts if isinstance(p, str)]
    if owner is not None and "kind" in owner.model_fields and len(names) > 1:
        names.pop()  # a distribution's parameter: in the unit of the field that holds it
    for suffix, unit in _UNITS:
        if names and names[-1].endswith(suffix):
            return unit
    return None


def _kinds() -> str:
    return ", ".join(KINDS)


def _did_you_mean(word: str, choices: list[str]) -> str | None:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}?" if close else None


def _show(value: Any) -> str:
    """A value as it would look in a TOML file, shortened."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, str):
        text = json.dumps(value)
    elif value is None:
        text = "none"
    elif isinstance(value, list | tuple):
        text = "[" + ", ".join(map(_show, value)) + "]"
    else:
        text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."
