"""The JSON Schema of a scenario *file*, for editors (``gtmsim schema``).

Pydantic's schema of :class:`~gtmsim.scenario.schema.Scenario` describes the
validated data; a file is written in the loader's language, which says more:

- ``extends = "PATH"`` at the top;
- the word ``"none"`` for an optional setting (TOML has no null);
- a bare number for a distribution (a constant), within the setting's bounds;
- ``new = true`` in a segment, channel or stage table that is not a misspelling;
- a range table ``{ value, low, high, source }`` for any number of a setting or
  of a distribution (:mod:`gtmsim.scenario.assumptions`);
- a file that extends another may set a single deal stage, segment or channel.

Rules that span files (shares summing to 1, stages 2 to 32 in all, names that
refer to segments) are checked by ``gtmsim validate``, not by the schema.
"""

from __future__ import annotations

import typing
from typing import Any

from pydantic import BaseModel

from gtmsim.scenario.assumptions import RANGE_KEYS
from gtmsim.scenario.fields import dist_check, is_dist, is_model, members, setting_kind
from gtmsim.scenario.loader import NAMED_TABLES, NEW_KEY
from gtmsim.scenario.schema import Scenario

NONE_WORD = {
    "type": "string",
    "pattern": "^[Nn][Oo][Nn][Ee]$",
    "description": 'the word "none": switched off',
}
_META = ("title", "description", "default")


def file_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) that every valid scenario file satisfies.

    Returns
    -------
    dict
        A JSON-serialisable schema; ``$defs`` holds one entry per settings table
        and per distribution kind.
    """
    schema = Scenario.model_json_schema()
    classes = _models(Scenario)
    named = _named_entry_classes()
    for name, node in [("Scenario", schema), *schema["$defs"].items()]:
        cls = classes.get(name)
        if cls is None or "properties" not in node:
            continue
        for key, prop in node["properties"].items():
            node["properties"][key] = _file_value(cls.model_fields[key], prop)
        if cls in named:
            node["properties"][NEW_KEY] = {
                "type": "boolean",
                "description": f"true: a new {named[cls]}, not a misspelt name of an inherited one",
            }
    schema["properties"] = {
        "extends": {
            "type": "string",
            "minLength": 1,
            "description": "another scenario file to start from, relative to this file",
        },
        **schema["properties"],
    }
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


def _file_value(field: Any, prop: dict[str, Any]) -> dict[str, Any]:
    """The schema of one setting as a file may write it."""
    meta = {k: prop[k] for k in _META if k in prop}
    core = {k: v for k, v in prop.items() if k not in _META}
    choices = core["anyOf"] if list(core) == ["anyOf"] else [core]
    optional = {"type": "null"} in choices
    choices = [c for c in choices if c != {"type": "null"}]
    if is_dist(field.annotation):
        choices = [_constant(field), _range(_constant(field)), *choices]
    elif setting_kind(field.annotation) == "number":
        choices = [*choices, _range(choices[0])]
    if typing.get_origin(_dict_type(field)) is dict and "minProperties" in choices[0]:
        choices[0] = {k: v for k, v in choices[0].items() if k != "minProperties"}
    if optional:
        choices.append(NONE_WORD)
        if meta.get("default", 0) is None:
            meta["default"] = "none"
    return {**meta, **(choices[0] if len(choices) == 1 else {"anyOf": choices})}


def _range(number: dict[str, Any]) -> dict[str, Any]:
    """A range table whose numbers each satisfy ``number``."""
    return {
        "type": "object",
        "description": "an assumption: the value the scenario runs with, a plausible range "
        "(low <= value <= high) and where it comes from",
        "properties": {
            key: {**(number if key != "source" else {"type": "string"}), "description": meaning}
            for key, meaning in RANGE_KEYS.items()
        },
        "required": ["value", "low", "high"],
        "additionalProperties": False,
    }


def _constant(field: Any) -> dict[str, Any]:
    """A bare number standing for a constant distribution, within the setting's bounds."""
    out: dict[str, Any] = {"type": "number"}
    check = dist_check(field)
    if check is not None:
        lo, hi = check.bounds
        out["exclusiveMinimum" if check.positive_mean and lo == 0 else "minimum"] = lo
        if (top := min(hi, check.max_mean)) < float("inf"):
            out["maximum"] = top
    return out


def _dict_type(field: Any) -> Any:
    """The field's type if it is a ``dict[...]`` (under Annotated), else None."""
    for member in members(field.annotation):
        if typing.get_origin(member) is dict:
            return member
    return None


def _named_entry_classes() -> dict[type[BaseModel], str]:
    """The classes of segment, channel and stage tables, and what each entry is called."""
    out = {}
    for (*parents, last), what in NAMED_TABLES.items():
        model: Any = Scenario
        for key in parents:
            model = members(model.model_fields[key].annotation)[0]
        out[typing.get_args(_dict_type(model.model_fields[last]))[1]] = what
    return out


def _models(root: type[BaseModel]) -> dict[str, type[BaseModel]]:
    """Every settings class reachable from ``root``, by name (pydantic's ``$defs`` keys)."""
    found: dict[str, type[BaseModel]] = {}
    stack: list[Any] = [root]
    while stack:
        tp = stack.pop()
        for member in members(tp):
            if is_model(member):
                if member.__name__ not in found:
                    found[member.__name__] = member
                    stack.extend(f.annotation for f in member.model_fields.values())
            else:
                stack.extend(typing.get_args(member))
    return found
