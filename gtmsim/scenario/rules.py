"""Whole-scenario rules checked despite broken settings, where their verdict can be trusted.

Pydantic checks a model's rules (its ``model_validator(mode="after")``) only
once every one of its settings is valid, so a file with a wrong value and a
contradiction (SDRs qualify, but there are none) would show the contradiction
only after the value is fixed. To report both at once, the broken settings are
taken out (each falls back to its default), the scenario is rebuilt without its
own rules, and each rule runs on a stand-in that notes every setting the rule
reads. A rule's verdict is kept only if it read none of the broken settings:
rules are plain code, so a rule that never read a setting gives the same
verdict whatever that setting is. A rule that did read one waits for the fix.
"""

from __future__ import annotations

import copy
import inspect
import types
from typing import Any

from pydantic import BaseModel, ValidationError

from gtmsim.scenario.schema import Scenario

KeyPath = tuple[str, ...]


def rules_despite(data: dict[str, Any], exc: ValidationError) -> ValidationError | None:
    """The whole-scenario rules broken in ``data`` whatever its broken settings are.

    Parameters
    ----------
    data : dict
        The merged scenario mapping that failed validation.
    exc : pydantic.ValidationError
        What that validation found.

    Returns
    -------
    pydantic.ValidationError or None
        The broken rules that ``exc`` does not report, worded as the rules word
        them; None when there are none, when the scenario cannot be rebuilt
        without the broken settings, or when each broken rule read one of them.
    """
    errors = exc.errors()
    reported = {  # rules that did run (pydantic stops at the first validator that fails)
        line
        for err in errors
        if not err["loc"]
        for line in str(err.get("ctx", {}).get("error", "")).splitlines()
    }
    data = copy.deepcopy(data)
    broken = [_remove(data, err["loc"]) for err in errors if err["loc"]]
    scenario = _rebuild(data)
    if scenario is None:
        return None
    messages = []
    for decorator in Scenario.__pydantic_decorators__.model_validators.values():
        if decorator.info.mode != "after":
            continue
        reads: list[KeyPath] = []
        try:
            decorator.func(_Traced(scenario, (), reads))
        except (ValueError, AssertionError) as rule:
            if not any(_overlap(r, b) for r in reads for b in broken):
                messages += [m for m in str(rule).splitlines() if m not in reported]
        except Exception:  # a rule the stand-in cannot run waits for the fix
            continue
    if not messages:
        return None
    error = ValueError("\n".join(messages))  # as the rules raise it: one line per rule
    line = {"type": "value_error", "loc": (), "input": data, "ctx": {"error": error}}
    return ValidationError.from_exception_data(Scenario.__name__, [line])


def _remove(data: dict[str, Any], loc: tuple[str | int, ...]) -> KeyPath:
    """Take the setting at ``loc`` out of ``data``; the key path taken out.

    ``loc`` may name a distribution's kind (not a key of the file), a
    distribution's parameter or a list position (the whole distribution or list
    goes), or a key that is missing (its table goes).
    """
    path: list[str] = []
    node: Any = data
    for part in loc:
        if isinstance(part, str) and isinstance(node, dict) and part in node:
            path.append(part)
            node = node[part]
            if not isinstance(node, dict) or "kind" in node:
                break
        elif isinstance(part, int):
            break
    if path:
        parent = data
        for key in path[:-1]:
            parent = parent[key]
        del parent[path[-1]]
    return tuple(path)


def _rebuild(data: dict[str, Any]) -> Scenario | None:
    """The scenario with every section validated but without the scenario's own rules."""
    sections: dict[str, Any] = {}
    try:
        for name, value in data.items():
            kind = Scenario.model_fields[name].annotation
            is_model = isinstance(kind, type) and issubclass(kind, BaseModel)
            sections[name] = kind.model_validate(value) if is_model else value
    except (KeyError, ValidationError):  # still broken: the rules wait for the fix
        return None
    return Scenario.model_construct(**sections)


def _overlap(a: KeyPath, b: KeyPath) -> bool:
    """Whether one key path contains the other (the whole scenario contains every path)."""
    n = min(len(a), len(b))
    return a[:n] == b[:n]


class _Traced:
    """A stand-in for a settings table that notes the key path of every setting read.

    Tables (models) are wrapped in turn; a value, a list, a map of tables (the
    channels, segments, stages) and a distribution are read whole: their path
    is noted and the real value returned. Methods and properties of the model
    run on the stand-in, so what they read is noted too.
    """

    def __init__(self, model: BaseModel, path: KeyPath, reads: list[KeyPath]) -> None:
        object.__setattr__(self, "_model", model)
        object.__setattr__(self, "_path", path)
        object.__setattr__(self, "_reads", reads)

    @property
    def __class__(self):  # isinstance() sees the model's class
        return type(object.__getattribute__(self, "_model"))

    def __getattr__(self, name: str) -> Any:
        model, path, reads = (
            object.__getattribute__(self, k) for k in ("_model", "_path", "_reads")
        )
        kind = type(model)
        if name in kind.model_fields:
            value = getattr(model, name)
            if isinstance(value, BaseModel) and "kind" not in type(value).model_fields:
                return _Traced(value, (*path, name), reads)
            reads.append((*path, name))
            return value
        attr = inspect.getattr_static(kind, name, None)
        if isinstance(attr, property) and attr.fget is not None:
            return attr.fget(self)
        if inspect.isfunction(attr):
            return types.MethodType(attr, self)
        reads.append(path)  # anything else reads the whole table
        return getattr(model, name)

    def __eq__(self, other: object) -> bool:
        object.__getattribute__(self, "_reads").append(object.__getattribute__(self, "_path"))
        return object.__getattribute__(self, "_model") == other

    __hash__ = None  # type: ignore[assignment]
