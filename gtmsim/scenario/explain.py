"""A resolved scenario written back as TOML, every setting shown, defaults marked.

The output loads back to the same scenario, so it doubles as a starting point
for a new file.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import BaseModel

from gtmsim.scenario.schema import Scenario

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def explain(scenario: Scenario) -> str:
    """The scenario as TOML; settings left at their default carry ``# default``."""
    lines = [
        f"# {scenario.name}: resolved settings (extends and overrides applied)",
        f"# scenario hash {scenario.content_hash()}",
    ]
    _table(lines, "", scenario)
    return "\n".join(lines).rstrip() + "\n"


def _is_dist(value: Any) -> bool:
    return isinstance(value, BaseModel) and "kind" in type(value).model_fields


def _table(lines: list[str], path: str, model: BaseModel) -> None:
    scalars, tables = [], []
    for name, field in type(model).model_fields.items():
        value = getattr(model, name)
        if isinstance(value, BaseModel) and not _is_dist(value):
            tables.append((name, value))
        elif (
            isinstance(value, dict)
            and value
            and all(isinstance(v, BaseModel) and not _is_dist(v) for v in value.values())
        ):
            tables.extend((f"{name}.{_key(k)}", v) for k, v in value.items())
        else:
            default = field.get_default(call_default_factory=True)
            scalars.append((name, value, value == default))
    if scalars:
        if path:
            lines += ["", f"[{path}]"]
        for name, value, is_default in scalars:
            lines.append(f"{_key(name)} = {_value(value)}" + ("  # default" if is_default else ""))
    for name, sub in tables:
        _table(lines, f"{path}.{name}" if path else name, sub)


def _key(name: str) -> str:
    return name if _BARE_KEY.match(name) else json.dumps(name)


def _value(value: Any) -> str:
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
        return "{ " + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} as TOML")
