"""Key paths as a user writes them: ``market.channels."paid search".spend_usd_per_week``.

A key path names one setting: table keys joined by dots, a key that is not a
bare word (letters, digits, ``_`` and ``-``) in double quotes, with its control
characters escaped, and list positions as ``[i]``.
"""

from __future__ import annotations

import json
import re

KeyParts = tuple[str | int, ...]
"""Table keys (str) and list positions (int, 0-based)."""

_BARE = re.compile(r"[A-Za-z0-9_-]+")
KEY_PART = r'(?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|\'[^\']*\')'
"""A regular expression for one key of a dotted key path."""


def dotted_key(parts: KeyParts) -> str:
    """Render key parts as the user would write them: ``a.b."my name".c[2]``.

    Parameters
    ----------
    parts : tuple of str or int
        Table keys (str) and list positions (int, 0-based).

    Returns
    -------
    str
        The dotted key path.
    """
    out = ""
    for p in parts:
        if isinstance(p, int):
            out += f"[{p}]"
        else:
            name = p if _BARE.fullmatch(p) else json.dumps(p, ensure_ascii=False)
            out += f".{name}" if out else name
    return out


def split_key(dotted: str) -> tuple[str, ...]:
    """The table keys of a dotted key path, quotes removed: the inverse of :func:`dotted_key`.

    Parameters
    ----------
    dotted : str
        Such as ``market.channels."paid search".spend_usd_per_week``.

    Returns
    -------
    tuple of str
        The keys; a double-quoted key is read as a JSON string, a single-quoted
        one literally. Spaces around the dots are ignored.
    """
    keys = []
    for part in re.findall(KEY_PART, dotted):
        if part.startswith('"'):
            try:
                part = json.loads(part)
            except json.JSONDecodeError:  # a TOML escape JSON lacks: keep it as written
                part = part[1:-1]
        elif part.startswith("'"):
            part = part[1:-1]
        keys.append(part)
    return tuple(keys)
