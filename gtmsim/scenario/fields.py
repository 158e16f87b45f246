"""What kind of value each setting holds, read from the schema's type annotations.

The reference, the editor schema and the assumptions all ask the same
questions of a setting's annotation: is it a table of settings, a
distribution, a number, a word? The answers live here.
"""

from __future__ import annotations

import types
import typing
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from gtmsim.scenario.dists import Constant, Dist


def strip(tp: Any) -> Any:
    """The type behind Annotated[...] wrappers."""
    while typing.get_origin(tp) is typing.Annotated:
        tp = typing.get_args(tp)[0]
    return tp


def members(tp: Any) -> tuple:
    """The alternatives of a (possibly nested, annotated) union."""
    tp = strip(tp)
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        return tuple(m for a in typing.get_args(tp) for m in members(a))
    return (tp,)


def is_model(tp: Any) -> bool:
    """Whether ``tp`` is a pydantic model class (a table of settings or a distribution kind)."""
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def is_dist(tp: Any) -> bool:
    """Whether a setting of type ``tp`` holds a distribution spec."""
    return any(m is Constant for m in members(tp))


DIST_KINDS: dict[str, type[BaseModel]] = {
    m.model_fields["kind"].default: m for m in members(Dist) if is_model(m)
}
"""Each distribution kind's model, by the word in its ``kind``."""


def setting_kind(tp: Any) -> str:
    """What a setting of type ``tp`` holds.

    Returns
    -------
    str
        ``"table"`` (a table of settings), ``"dist"``, ``"number"`` (float or
        int, optional or not), ``"map"`` (a table of values by name), ``"list"``,
        ``"bool"``, or ``"word"`` (text or one of some words).
    """
    if is_dist(tp):
        return "dist"
    found = [m for m in members(tp) if m is not type(None)]
    if any(is_model(m) for m in found):
        return "table"
    if found and all(m in (int, float) for m in found):
        return "number"
    origins = {typing.get_origin(m) for m in found}
    if dict in origins:
        return "map"
    if list in origins:
        return "list"
    return "bool" if bool in found else "word"


def table_class(tp: Any) -> type[BaseModel]:
    """The model class of a ``"table"`` setting."""
    return next(m for m in members(tp) if is_model(m))


def describe_words(tp: Any) -> str:
    """The words a ``"word"`` setting takes, as a user reads them (or "text")."""
    words = [a for m in members(tp) if typing.get_origin(m) is Literal for a in typing.get_args(m)]
    return "one of " + ", ".join(f'"{w}"' for w in words) if words else "text"


def constraints(field: FieldInfo) -> list:
    """A setting's constraint metadata, including what its type annotation carries (inside an
    optional's or a union's Annotated members too)."""
    metadata = list(field.metadata)
    stack = [field.annotation]
    while stack:
        t = stack.pop()
        if typing.get_origin(t) is typing.Annotated:
            for meta in t.__metadata__:  # Annotated[float, Field(ge=0)] keeps Ge inside Field
                metadata += meta.metadata if isinstance(meta, FieldInfo) else [meta]
            stack.append(typing.get_args(t)[0])
        elif typing.get_origin(t) in (typing.Union, types.UnionType):
            stack.extend(typing.get_args(t))
    return metadata


def dist_check(field: FieldInfo) -> Any:
    """The validator that bounds a distribution setting's values (see ``dists.within``), or None."""
    checks = [getattr(meta, "func", None) for meta in constraints(field)]
    return next((c for c in checks if hasattr(c, "bounds")), None)
