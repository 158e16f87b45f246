"""The shipped scenario files: where they are, one found by name, the closest to a near miss.

The shipped scenarios (the base market, the org-design presets, the examples)
travel inside the package, in ``gtmsim/data/scenarios`` (a checkout's
``scenarios/`` is a link to it). A name is looked up first in the ``scenarios/``
folder of the working directory, so a file of that name there comes first, then
in the package: ``gtmsim run over_the_wall`` works from any folder after
``pip install``.
"""

from __future__ import annotations

import difflib
import functools
import os
import tomllib
from importlib.resources import files
from pathlib import Path

SHIPPED_DIR = "scenarios"
"""The folder of scenario files looked in first, relative to the working directory."""


def packaged(*parts: str) -> Path:
    """A file or folder of the data installed with the package (``gtmsim/data``).

    pip installs packages as plain files, so the resource is a real path that
    scenario files can ``extends`` from.
    """
    return Path(str(files("gtmsim").joinpath("data", *parts)))


def packaged_scenarios() -> Path:
    """The folder of the scenario files installed with the package."""
    return packaged("scenarios")


def scenario_folder() -> Path:
    """The folder of the shipped scenarios: :data:`SHIPPED_DIR` of the working
    directory if there is one, else the package's (:func:`packaged_scenarios`)."""
    return Path(SHIPPED_DIR) if Path(SHIPPED_DIR).is_dir() else packaged_scenarios()


def shipped_scenarios(root: str | os.PathLike[str] = SHIPPED_DIR) -> list[str]:
    """Every scenario file under ``root``, sorted; none if there is no such folder.

    Parameters
    ----------
    root : str or os.PathLike
        The folder to look in (default: :data:`SHIPPED_DIR`).

    Returns
    -------
    list of str
        Paths as ``root`` is given, with forward slashes.
    """
    folder = Path(root)
    return sorted(p.as_posix() for p in folder.rglob("*.toml")) if folder.is_dir() else []


def shipped_by_name(name: str, root: str | os.PathLike[str] | None = None) -> str | None:
    """The shipped scenario called ``name``: its path under ``root`` without ``.toml``.

    ``base/market`` is ``scenarios/base/market.toml``, ``examples/recycle_rejected`` is
    ``scenarios/examples/recycle_rejected.toml``; a plain name that is not a file at the top
    also finds the one file of that name further down (``fast_follow_up`` is
    ``scenarios/examples/fast_follow_up.toml``).

    Parameters
    ----------
    name : str
        A name such as ``base/market``, without ``.toml``.
    root : str or os.PathLike, optional
        The folder to look in. By default :data:`SHIPPED_DIR` of the working
        directory, then the package's own scenarios (:func:`packaged_scenarios`).

    Returns
    -------
    str or None
        The file's path; None for a file name (``.toml``), an absolute path or
        one that leaves ``root``, and when no file or more than one file further
        down has that name.
    """
    if root is None:
        here = shipped_by_name(name, SHIPPED_DIR)
        return here if here is not None else shipped_by_name(name, packaged_scenarios())
    parts = Path(name).parts
    if not parts or name.endswith(".toml") or os.path.isabs(name) or ".." in parts:
        return None
    direct = Path(root, f"{name}.toml")
    if direct.is_file():
        return direct.as_posix()
    if len(parts) > 1:
        return None
    found = [p for p in shipped_scenarios(root) if Path(p).stem == name]
    return found[0] if len(found) == 1 else None


def scenario_path(text: str) -> str:
    """What a scenario argument names: the file ``text`` if there is one, else the shipped
    scenario of that name (:func:`shipped_by_name`: ``base/market``,
    ``examples/fast_follow_up``), else ``text`` (for the error that it is not found)."""
    return text if os.path.isfile(text) else shipped_by_name(text) or text


def closest_scenarios(
    missing: str,
    start: str | None,
    exclude: str | None = None,
    n: int = 3,
    names: bool = False,
) -> list[str]:
    """Existing scenario files whose names are closest to a path that does not exist.

    The candidates are the shipped scenarios and the files near ``missing``:
    in the nearest folder on its path that exists, and one folder down. With
    ``names``, so are the scenarios installed with the package that a name would
    load (:func:`scenario_path`), offered by that name (``base/market``,
    ``examples/fast_follow_up``) where they are not already among the others.

    Parameters
    ----------
    missing : str
        The path that was not found (relative to the working directory, or absolute).
    start : str or None
        Folder the suggestions are shown relative to ("." for the working
        directory, the referring file's folder for ``extends``); None for
        absolute paths.
    exclude : str, optional
        A file never to suggest (the file whose ``extends`` is being resolved).
    n : int
        At most this many distinct names.
    names : bool
        Whether a name of an installed scenario would do (a file given on the
        command line; an ``extends`` needs a path).

    Returns
    -------
    list of str
        Paths, closest name first. Of several files with one name, the one in
        the folder of ``missing`` if there is one, else all of them.
    """
    given = os.path.abspath(os.path.dirname(missing))
    folder = Path(missing).parent
    while not folder.is_dir() and folder != folder.parent:
        folder = folder.parent
    near = [*folder.glob("*.toml"), *folder.glob("*/*.toml")] if folder.is_dir() else []
    skip = {os.path.realpath(exclude)} if exclude else set()
    by_name: dict[str, dict[str, str]] = {}
    for path in [*shipped_scenarios(), *near]:
        real = os.path.realpath(path)
        if real not in skip:
            by_name.setdefault(Path(path).stem.lower(), {})[real] = os.path.abspath(path)
    named = {}  # installed file -> the name it is offered by
    installed = packaged_scenarios()
    for path in shipped_scenarios(installed) if names else []:
        real, stem = os.path.realpath(path), Path(path).stem.lower()
        name = Path(path).relative_to(installed).with_suffix("").as_posix()
        seen = real in skip or real in by_name.get(stem, {})
        if not seen and os.path.realpath(scenario_path(name)) == real:  # the name loads it
            by_name.setdefault(stem, {})[real] = named_path = os.path.abspath(path)
            named[named_path] = name
    name = Path(missing).name.lower().removesuffix(".toml")
    close = difflib.get_close_matches(name, list(by_name), n=n, cutoff=0.6)
    shown = []
    for stem in close:
        paths = sorted(by_name[stem].values())
        beside = [p for p in paths if os.path.dirname(p) == given]
        for path in beside or paths:  # the one in the folder given, if there is one
            shown_path = path if start is None else os.path.relpath(path, start)
            shown.append(Path(named.get(path, shown_path)).as_posix())
    return shown


@functools.cache
def display() -> dict:
    """How the shipped designs are shown (``gtmsim/data/display.toml``): their colours
    and the design the live page opens with."""
    with packaged("display.toml").open("rb") as f:
        return tomllib.load(f)
