"""Load a scenario: read TOML, follow ``extends``, deep-merge, apply overrides, validate.

A scenario file may start with ``extends = "base.toml"`` (a path relative to the
file that says it). The parent is loaded first and the child is merged into it:
tables of settings merge key by key; anything else (numbers, text, lists, a
distribution, a share map) is replaced whole. Keys
keep the parent's order, new keys come after them, so a child can add deal
stages after the parent's. Every problem is reported as a :class:`ScenarioError`.

A segment, channel or deal stage that a file (or an override) adds next to an
inherited one whose name it nearly matches is taken for a misspelling, unless
its table says ``new = true``. Files larger than :data:`MAX_FILE_BYTES`, data
nested deeper than :data:`MAX_DEPTH`, an empty file, and NaN or infinite
numbers are refused before anything is merged. Range tables (assumptions,
:mod:`gtmsim.scenario.assumptions`) merge like any table; after the merge each
is replaced by its value, checked, and attached to the scenario.
"""

from __future__ import annotations

import ast
import functools
import json
import math
import os
import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from gtmsim.scenario.assumptions import Issue, check_ends, declare, split_ranges
from gtmsim.scenario.errors import (
    KeyParts,
    Problem,
    ScenarioError,
    dotted_key,
    find_line,
    key_lines,
    problems_from_validation_error,
)
from gtmsim.scenario.rules import rules_despite
from gtmsim.scenario.schema import Scenario
from gtmsim.scenario.shipped import closest_scenarios, scenario_path

Source = str | os.PathLike[str] | Mapping[str, Any]
_AT_END = " (at end of document)"  # how tomllib says where an unfinished file broke off

MAX_FILE_BYTES = 1_000_000
"""The largest scenario file read; the base market is about 15 kB."""
MAX_DEPTH = 16
"""How deeply tables and lists may nest; the deepest setting is 6 levels down."""

NAMED_TABLES = {
    ("market", "segments"): "segment",
    ("market", "channels"): "channel",
    ("deals", "stages"): "stage",
}
"""The tables whose keys are names the user chooses, and what each name is."""
NEW_KEY = "new"
"""``new = true`` in a segment, channel or stage table: a new name, not a misspelt one."""

# A dotted key longer than MAX_DEPTH, found before tomllib spends quadratic time on it.
_KEY_PART_RE = r'(?:[A-Za-z0-9_-]+|"[^"\n]*"|\'[^\'\n]*\')'
_LONG_KEY_RE = re.compile(rf"(?:{_KEY_PART_RE}[ \t]*\.[ \t]*){{{MAX_DEPTH},}}")


@dataclass(frozen=True)
class _Layer:
    """One source of settings: a file, the caller's mapping, or the overrides."""

    file: str | None
    text: str | None
    data: dict[str, Any]
    is_override: bool = False


def load_scenario(
    source: Source,
    overrides: Mapping[str, Any] | None = None,
    *,
    base_dir: str | os.PathLike[str] | None = None,
) -> Scenario:
    """Load, merge and validate a scenario.

    Parameters
    ----------
    source : str, os.PathLike or Mapping
        Path of a TOML scenario file, the name of a shipped scenario where no file
        has that path (``"base/market"``, ``"examples/fast_follow_up"``: see
        :func:`~gtmsim.scenario.shipped.shipped_by_name`), or already-parsed
        scenario data.
    overrides : Mapping, optional
        Dotted key paths to values, e.g. ``{"sales.ae.headcount": 30}``, applied
        after ``extends`` is resolved. Missing tables are created; a table value
        set on a table is merged into it.
    base_dir : str or os.PathLike, optional
        Directory that ``extends`` of a Mapping source is relative to (default:
        the current directory). Ignored for files.

    Returns
    -------
    Scenario
        The validated, frozen scenario, with the ranges its files declare
        (:meth:`Scenario.assumptions`).

    Raises
    ------
    ScenarioError
        With every problem found: unreadable or invalid files, circular or bad
        ``extends``, bad override keys, values the schema rejects, or ranges
        that are malformed, misplaced or reach beyond what a setting allows.
    """
    layers, data = _resolve(source, overrides, base_dir)
    locate = functools.partial(_locate, layers)
    ranges, issues = split_ranges(data)
    problems = [_placed(locate, issue) for issue in issues]
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        problems += problems_from_validation_error(exc, locate=locate)
        if held_back := rules_despite(data, exc):  # rules pydantic did not get to
            problems += problems_from_validation_error(held_back, locate=locate)
        raise ScenarioError(problems) from None
    if problems := problems + check_ends(data, ranges, locate):
        raise ScenarioError(problems)
    return declare(scenario, ranges)


def _placed(locate: Any, issue: Issue) -> Problem:
    file, line = locate(issue.parts)
    return Problem(file, dotted_key(issue.parts), issue.message, issue.value, line, issue.hint)


def resolve_mapping(
    source: Source,
    overrides: Mapping[str, Any] | None = None,
    *,
    base_dir: str | os.PathLike[str] | None = None,
) -> dict[str, Any]:
    """The scenario data after ``extends``, deep merge and overrides, before validation.

    Parameters
    ----------
    source, overrides, base_dir
        As for :func:`load_scenario`.

    Returns
    -------
    dict
        Plain nested dicts, without the ``extends`` key; range tables are
        still in it.

    Raises
    ------
    ScenarioError
        As for :func:`load_scenario`, except for validation problems.
    """
    return _resolve(source, overrides, base_dir)[1]


def deep_merge(parent: Mapping[str, Any], child: Mapping[str, Any]) -> dict[str, Any]:
    """Merge ``child`` into a copy of ``parent``: tables recursively, other values replaced.

    Parameters
    ----------
    parent, child : Mapping
        Parsed TOML tables.

    Returns
    -------
    dict
        A new dict; ``parent``'s keys keep their order and new keys of ``child`` follow.
    """
    out = _plain(parent)
    for key, value in child.items():
        out[key] = _merged(key, out.get(key), value)
    return out


# Tables that are one value, not a bundle of settings: a child states them whole.
_WHOLE_TABLES = {"segment_mix", "headcount_by_segment"}


def is_whole_value(key: str, value: Any) -> bool:
    """A table that is one value (a distribution, a share map), replaced rather than merged."""
    return key in _WHOLE_TABLES or (_is_table(value) and "kind" in value)


def _merged(key: str, old: Any, new: Any) -> Any:
    """The value of ``key`` after a child or an override sets it to ``new``.

    Tables of settings merge key by key; a distribution (a table with ``kind``)
    and the share and headcount maps are replaced whole, so that a child can
    turn a gamma into an exponential or give a channel fewer segments.
    """
    if _is_table(old) and _is_table(new) and not is_whole_value(key, new):
        return deep_merge(old, new)
    return _plain(new)


def _resolve(
    source: Source, overrides: Mapping[str, Any] | None, base_dir: Any
) -> tuple[list[_Layer], dict[str, Any]]:
    """The layers (overrides first, then child to root) and the merged data."""
    if isinstance(source, str | os.PathLike):
        source = scenario_path(os.fspath(source))
    layers = _chain(source, base_dir)
    if overrides:
        layer = _Layer(None, None, _apply_overrides({}, overrides), is_override=True)
        _check_layer(layer)
        layers.insert(0, layer)
    data: dict[str, Any] = {}
    problems = []
    for layer in reversed(layers):
        problems += _new_entries(layer, data)
        if layer.is_override:
            _apply_overrides(data, overrides or {})
        else:
            data = deep_merge(data, {k: v for k, v in layer.data.items() if k != "extends"})
    if problems:
        raise ScenarioError(problems)
    for path in NAMED_TABLES:
        for entry in _entries(data, path).values():
            if isinstance(entry, dict):
                entry.pop(NEW_KEY, None)
    return layers, data


def _entries(data: Mapping[str, Any], path: tuple[str, ...]) -> Mapping[str, Any]:
    """The named entries at ``path`` (segments, channels, stages); empty if there are none."""
    node: Any = data
    for key in path:
        node = node.get(key) if isinstance(node, Mapping) else None
    return node if isinstance(node, Mapping) else {}


def _new_entries(layer: _Layer, inherited: Mapping[str, Any]) -> list[Problem]:
    """Names a layer adds next to inherited ones that they nearly match, and bad ``new`` flags."""
    problems = []
    for path, what in NAMED_TABLES.items():
        known = list(_entries(inherited, path))
        for name, entry in _entries(layer.data, path).items():
            flag = entry.get(NEW_KEY, False) if isinstance(entry, Mapping) else False
            parts = (*path, name)
            key = dotted_key(parts)
            if not isinstance(flag, bool):
                message = f"must be true or false (true: {dotted_key((name,))} is a new {what})"
                line = find_line(layer.text, (*parts, NEW_KEY))
                problems.append(Problem(layer.file, f"{key}.{NEW_KEY}", message, flag, line))
            elif flag and name in known:
                message = (
                    f"says new = true, but the scenario it extends already has this {what}: "
                    "remove new = true to change it, or choose another name"
                )
                line = find_line(layer.text, parts)
                problems.append(Problem(layer.file, key, message, line=line))
            elif not flag and name not in known and (close := _nearest(name, known)):
                names = ", ".join(dotted_key((k,)) for k in known)
                source = "the scenario" if layer.is_override else "the scenario it extends"
                message = (
                    f"is not a {what} of {source} ({names}) but so close to "
                    f"{dotted_key((close,))} that it looks misspelt: as written it adds a new {what}"
                )
                how = (
                    f"--set {key}.{NEW_KEY}=true"
                    if layer.is_override
                    else "new = true in its table"
                )
                hint = f"did you mean {close!r}? To add a new {what}, say {how}"
                line = find_line(layer.text, parts)
                problems.append(Problem(layer.file, key, message, line=line, hint=hint))
    return problems


def _nearest(name: str, known: list[str]) -> str | None:
    """The known name within a typo or two of ``name`` (one for names under 6 characters)."""
    limit = 1 if len(name) < 6 else 2
    near = [k for k in known if abs(len(k) - len(name)) <= limit]  # the others differ more
    scored = [(_typos(name.lower(), k.lower()), k) for k in near]
    close = [(d, k) for d, k in scored if d <= limit]
    return min(close)[1] if close else None


def _typos(a: str, b: str) -> int:
    """Edits (insert, delete, replace, swap two neighbours) that turn ``a`` into ``b``."""
    before, row = None, list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, start=1):
            current[j] = min(row[j] + 1, current[j - 1] + 1, row[j - 1] + (ca != cb))
            if before is not None and i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], before[j - 2] + 1)
        before, row = row, current
    return row[-1]


def _chain(source: Source, base_dir: Any) -> list[_Layer]:
    """Read the source and everything it extends, child first."""
    if isinstance(source, Mapping):
        _check_layer(_Layer(None, None, source))  # before copying: a cycle would never end
        layers, seen = [_Layer(None, None, _plain(source))], [None]
        here = os.fspath(base_dir or "")
    else:
        path = os.fspath(source)
        start = None if os.path.isabs(path) else "."  # suggestions in the user's own terms
        layers, seen = [_read(path, None, start)], [os.path.realpath(path)]
        here = os.path.dirname(path)
    while "extends" in (child := layers[-1]).data:
        ext = child.data["extends"]
        if not isinstance(ext, str) or not ext:
            raise _extends_error(child, "must be the path of another scenario file, in quotes")
        target = os.path.normpath(os.path.join(here, ext))
        if (real := os.path.realpath(target)) in seen:
            start = seen.index(real)
            cycle = [layer.file for layer in layers[start:]] + [layers[start].file]
            raise _extends_error(child, f"circular extends: {' -> '.join(map(str, cycle))}")
        layers.append(_read(target, child, None if os.path.isabs(ext) else here or "."))
        seen.append(real)
        here = os.path.dirname(target)
    return layers


def _read(path: str, referrer: _Layer | None, start: str | None) -> _Layer:
    """Read and parse one TOML file; ``referrer`` is the layer whose ``extends`` names it.

    A file that does not exist gets a "did you mean" of the closest existing
    scenario files, as paths relative to ``start`` (None: absolute paths).
    """
    hint = None
    try:
        with open(path, "rb") as file:
            raw = file.read(MAX_FILE_BYTES + 1)  # /dev/zero or a huge file: stop early
    except FileNotFoundError:
        reason = "no such file"
        exclude = referrer and referrer.file
        close = closest_scenarios(path, start, exclude=exclude, names=referrer is None)
        if close:
            hint = "did you mean " + " or ".join(map(repr, close)) + "?"
        elif referrer is None:  # the package's scenarios, if not a scenarios/ folder here
            hint = "`gtmsim list` shows the shipped scenario files"
    except OSError as exc:
        reason = exc.strerror or str(exc)
    else:
        if len(raw) > MAX_FILE_BYTES:
            reason = (
                f"larger than {MAX_FILE_BYTES // 1_000_000} MB, too large for a scenario file "
                "(the base market is about 15 kB): is it the right file?"
            )
        else:
            try:
                return _parse(path, raw.decode("utf-8"))
            except UnicodeDecodeError:
                reason = "not UTF-8 text"
    if referrer is None:
        raise ScenarioError([Problem(path, "", f"cannot read this file: {reason}", hint=hint)])
    raise _extends_error(referrer, f"cannot read {path}: {reason}", hint)


def _parse(path: str, text: str) -> _Layer:
    for number, line in enumerate(text.splitlines(), start=1):
        if line.count(".") >= MAX_DEPTH and _LONG_KEY_RE.search(line):  # a key is on one line
            raise _too_deep(path, number)
    try:
        layer = _Layer(path, text, tomllib.loads(text))
    except RecursionError:  # brackets or braces nested thousands deep
        raise _too_deep(path, None) from None
    except tomllib.TOMLDecodeError as exc:
        detail, line, where = str(exc), None, None
        if m := re.fullmatch(r"(.*?)\s*\(at line (\d+), column (\d+)\)", detail):
            detail, line, where = m[1], int(m[2]), f"column {m[3]}"
        elif detail.endswith(_AT_END):
            detail, where = detail.removesuffix(_AT_END), "at the end of the file"
            line = len(text.splitlines()) or 1
        problem = _duplicate(path, text, detail, line) if line else None
        message = f"not valid TOML: {detail}" + (f" ({where})" if where else "")
        raise ScenarioError([problem or Problem(path, "", message, line=line)]) from None
    if not layer.data:
        raise ScenarioError(
            [
                Problem(
                    path,
                    "",
                    "has no settings: an empty scenario would silently run the defaults (a "
                    "textbook queue with no channels); give it a name and its settings, or "
                    'start from another file with extends = "PATH"',
                    line=1,
                )
            ]
        )
    _check_layer(layer)
    return layer


def _too_deep(file: str | None, line: int | None, parts: KeyParts = ()) -> ScenarioError:
    message = (
        f"nests tables or lists deeper than {MAX_DEPTH} levels; the deepest scenario "
        "setting is 6 levels down"
    )
    return ScenarioError([Problem(file, dotted_key(parts), message, line=line)])


def _check_layer(layer: _Layer) -> None:
    """Refuse data nested too deeply, and NaN or infinite numbers anywhere in it."""
    problems = []
    for parts, value in _leaves(layer.data):
        if value is _TOO_DEEP:
            raise _too_deep(layer.file, find_line(layer.text, parts), parts)
        if isinstance(value, float) and not math.isfinite(value):
            problems.append(
                Problem(
                    layer.file,
                    dotted_key(parts),
                    "must be a finite number (NaN and infinity are not numbers the model can use)",
                    value,
                    find_line(layer.text, parts),
                )
            )
    if problems:
        raise ScenarioError(problems)


_TOO_DEEP = object()


def _leaves(data: Any) -> Iterator[tuple[KeyParts, Any]]:
    """(key parts, value) of every value that is not a table or list, depth first.

    Yields ``(parts, _TOO_DEEP)`` for the first place nested deeper than
    :data:`MAX_DEPTH`, and stops there (so a mapping that contains itself ends too).
    """
    stack: list[tuple[KeyParts, Any]] = [((), data)]
    while stack:
        parts, node = stack.pop()
        if len(parts) > MAX_DEPTH:
            yield parts, _TOO_DEEP
            return
        if isinstance(node, Mapping):
            stack.extend(((*parts, str(k)), v) for k, v in reversed(node.items()))
        elif isinstance(node, list | tuple):
            stack.extend(((*parts, i), v) for i, v in reversed(list(enumerate(node))))
        else:
            yield parts, node


def _duplicate(path: str, text: str, detail: str, line: int) -> Problem | None:
    """A key or table set twice, named, with both lines (tomllib names neither).

    tomllib places a duplicated key at the end of its value, so the key is on
    the nearest line at or above that sets one; a duplicated table is named in
    the message and placed on its header.
    """
    entries = list(key_lines(text))
    if detail == "Cannot overwrite a value":
        setting = [e for e in entries if e[0] <= line]
        if not setting:
            return None
        line, key, is_table = setting[-1]
    elif m := re.fullmatch(r"Cannot declare (\(.*\)) twice", detail):
        key, is_table = list(ast.literal_eval(m[1])), True
    else:
        return None
    name = dotted_key(tuple(key))
    message = "set twice"
    for number, other, header in entries:
        if number >= line:
            break
        if other == key and header == is_table:
            message = (
                f"the table [{name}] appears twice, here and on line {number}; "
                f"put its keys under one [{name}]"
                if is_table
                else f"set twice, here and on line {number}; keep one"
            )
        elif key[: len(other)] == other and not header:  # a value cannot hold keys
            message = (
                f"already a value (line {number}), so it cannot be a table"
                if other == key
                else f"{dotted_key(tuple(other))} is a value (line {number}) and cannot hold {name}"
            )
        elif other[: len(key)] == key:  # the key is already a table
            other_name = dotted_key(tuple(other))
            message = "already a table: " + (
                f"[{other_name}] on line {number}" if header else f"line {number} sets {other_name}"
            )
        else:
            continue
        break
    return Problem(path, name, f"not valid TOML: {message}", line=line)


def _extends_error(layer: _Layer, message: str, hint: str | None = None) -> ScenarioError:
    value, line = layer.data.get("extends"), find_line(layer.text, ("extends",))
    return ScenarioError([Problem(layer.file, "extends", message, value, line, hint)])


def _apply_overrides(data: dict[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Set each dotted key of ``overrides`` in ``data`` (in place), creating tables as needed."""
    problems = []
    for dotted, value in overrides.items():
        if message := _set(data, str(dotted).split("."), value):
            problems.append(Problem(None, str(dotted), message, value))
    if problems:
        raise ScenarioError(problems)
    return data


def _set(data: dict[str, Any], keys: list[str], value: Any) -> str | None:
    """Set ``data[k1][k2]...[kn] = value``; return what is wrong, if anything."""
    if not all(keys):
        return "is not a dotted key path such as sales.ae.headcount"
    if len(keys) > MAX_DEPTH:
        return f"nests deeper than {MAX_DEPTH} levels; the deepest setting is 6 levels down"
    node = data
    for i, key in enumerate(keys[:-1]):
        node = node.setdefault(key, {})
        if not _is_table(node):
            return f"cannot be set: {'.'.join(keys[: i + 1])} is a value, not a table"
    node[keys[-1]] = _merged(keys[-1], node.get(keys[-1]), value)
    return None


def _locate(
    layers: list[_Layer], parts: KeyParts, *also: KeyParts
) -> tuple[str | None, int | None]:
    """Where a problem with key ``parts`` (or a rule about ``parts`` and ``also``) comes from.

    The first layer, overrides first and then child to root, that sets one of the
    keys or replaces a whole value that contains it decides it; failing that, the
    layer that sets the most of the key path.
    """
    for layer in layers:
        for candidate in (parts, *also):
            if _decides(layer.data, [p for p in candidate if isinstance(p, str)]):
                return layer.file, find_line(layer.text, candidate)
    keys = [p for p in parts if isinstance(p, str)]
    depths = [_depth(layer.data, keys) for layer in layers]
    best = depths.index(max(depths))
    if depths[best] == 0:  # nobody sets it: the user's own source
        best = next(i for i, layer in enumerate(layers) if not layer.is_override)
    return layers[best].file, find_line(layers[best].text, parts)


def _decides(data: Any, keys: list[str]) -> bool:
    """Whether ``data`` sets the key path, or a whole value (not merged) containing it."""
    for n, key in enumerate(keys):
        if not _is_table(data) or key not in data:
            return False
        data = data[key]
        if n < len(keys) - 1 and (not _is_table(data) or is_whole_value(key, data)):
            return True
    return bool(keys)


def _depth(data: Any, keys: list[str]) -> int:
    for n, key in enumerate(keys):
        if not _is_table(data) or key not in data:
            return n
        data = data[key]
    return len(keys)


def _is_table(value: Any) -> bool:
    return isinstance(value, Mapping)


def _plain(value: Any) -> Any:
    """A deep copy with every Mapping turned into a dict."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def overrides_text(overrides: Mapping[str, Any] | None) -> str:
    """Overrides as a person reads them: ``sales.ae.headcount = 30, handoff.route = "pooled"``.

    Values are written as in a TOML file; ``""`` when there are none.
    """
    return ", ".join(f"{key} = {_toml_value(value)}" for key, value in (overrides or {}).items())


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{k} = {_toml_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return str(value)
