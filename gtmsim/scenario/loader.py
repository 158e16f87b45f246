"""Load a scenario: read TOML, follow ``extends``, deep-merge, apply overrides, validate.

A scenario file may start with ``extends = "base.toml"`` (a path relative to the
file that says it). The parent is loaded first and the child is merged into it:
tables of settings merge key by key; anything else (numbers, text, lists, a
distribution, a share map) is replaced whole. Keys
keep the parent's order, new keys come after them, so a child can add deal
stages after the parent's. Every problem is reported as a :class:`ScenarioError`.
"""

from __future__ import annotations

import ast
import functools
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

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
from gtmsim.scenario.shipped import closest_scenarios, shipped_scenarios

Source = str | os.PathLike[str] | Mapping[str, Any]
_AT_END = " (at end of document)"  # how tomllib says where an unfinished file broke off


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
        Path of a TOML scenario file, or already-parsed scenario data.
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
        The validated, frozen scenario.

    Raises
    ------
    ScenarioError
        With every problem found: unreadable or invalid files, circular or bad
        ``extends``, bad override keys, or values the schema rejects.
    """
    layers, data = _resolve(source, overrides, base_dir)
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        locate = functools.partial(_locate, layers)
        problems = problems_from_validation_error(exc, locate=locate)
        if held_back := rules_despite(data, exc):  # rules pydantic did not get to
            problems += problems_from_validation_error(held_back, locate=locate)
        raise ScenarioError(problems) from None


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
        Plain nested dicts, without the ``extends`` key.

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
    layers = _chain(source, base_dir)
    data: dict[str, Any] = {}
    for layer in reversed(layers):
        data = deep_merge(data, {k: v for k, v in layer.data.items() if k != "extends"})
    if overrides:
        _apply_overrides(data, overrides)
        layers.insert(0, _Layer(None, None, _apply_overrides({}, overrides), is_override=True))
    return layers, data


def _chain(source: Source, base_dir: Any) -> list[_Layer]:
    """Read the source and everything it extends, child first."""
    if isinstance(source, Mapping):
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
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        reason = "no such file"
        close = closest_scenarios(path, start, exclude=referrer and referrer.file)
        if close:
            hint = "did you mean " + " or ".join(map(repr, close)) + "?"
        elif referrer is None and shipped_scenarios():
            hint = "`gtmsim list` shows the shipped scenario files"
    except UnicodeDecodeError:
        reason = "not UTF-8 text"
    except OSError as exc:
        reason = exc.strerror or str(exc)
    else:
        return _parse(path, text)
    if referrer is None:
        raise ScenarioError([Problem(path, "", f"cannot read this file: {reason}", hint=hint)])
    raise _extends_error(referrer, f"cannot read {path}: {reason}", hint)


def _parse(path: str, text: str) -> _Layer:
    try:
        return _Layer(path, text, tomllib.loads(text))
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
