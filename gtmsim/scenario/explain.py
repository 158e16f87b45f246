"""A resolved scenario written back as TOML, every setting shown, those left to the
defaults marked.

The output loads back to the same scenario, declared ranges included, so it
doubles as a starting point for a new file.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel

from gtmsim.scenario.keys import KeyParts, dotted_key, split_key
from gtmsim.scenario.schema import Assumption, Scenario

Declared = dict[tuple[str, ...], Assumption]


def explain(scenario: Scenario) -> str:
    """The scenario as TOML; settings no file or override set carry ``# default``.

    A setting counts as set when the scenario file, a file it extends or an
    override gives it, even at its default value (``route = "pooled"`` written in
    a file is not marked).

    A setting declared with a range is written as its range table,
    ``{ value = ..., low = ..., high = ..., source = "..." }``.
    """
    declared = {split_key(k): a for k, a in scenario.assumptions().items()}
    lines = [
        f"# {scenario.name}: resolved settings (extends and overrides applied)",
        f"# scenario hash {scenario.content_hash()}",
    ]
    if declared:
        lines.append(
            f"# {len(declared)} setting(s) declared with a range; ranges and sources do not "
            "change the hash"
        )
    _table(lines, (), scenario, declared)
    return "\n".join(lines).rstrip() + "\n"


def _is_dist(value: Any) -> bool:
    return isinstance(value, BaseModel) and "kind" in type(value).model_fields


def _table(lines: list[str], parts: KeyParts, model: BaseModel, declared: Declared) -> None:
    scalars, tables = [], []
    for name in type(model).model_fields:
        value = getattr(model, name)
        if isinstance(value, BaseModel) and not _is_dist(value):
            tables.append(((*parts, name), value))
        elif (
            isinstance(value, dict)
            and value
            and all(isinstance(v, BaseModel) and not _is_dist(v) for v in value.values())
        ):
            tables.extend(((*parts, name, k), v) for k, v in value.items())
        else:
            scalars.append((name, value, name not in model.model_fields_set))
    if scalars:
        if parts:
            lines += ["", f"[{dotted_key(parts)}]"]
        for name, value, is_default in scalars:
            text = _value(value, (*parts, name), declared)
            lines.append(f"{dotted_key((name,))} = {text}" + ("  # default" if is_default else ""))
    for sub_parts, sub in tables:
        _table(lines, sub_parts, sub, declared)


def _value(value: Any, parts: KeyParts, declared: Declared) -> str:
    if (assumption := declared.get(parts)) is not None:
        fields = assumption._asdict()
        if fields["source"] is None:
            del fields["source"]
        return _value(fields, (), {})
    if value is None:
        return '"none"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, int | float):
        return repr(value)
    if _is_dist(value):
        value = {k: v for k, v in value.model_dump().items() if v is not None}
    if isinstance(value, dict):
        items = (
            f"{dotted_key((k,))} = {_value(v, (*parts, k), declared)}" for k, v in value.items()
        )
        return "{ " + ", ".join(items) + " }"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(v, (), declared) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} as TOML")
