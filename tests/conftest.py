"""Shared test setup: hypothesis profiles, how the suite is spread over cores, and the
small simulations that many tests read.

Running time (issue 17): `python -m pytest` runs one pytest-xdist worker per core
(`-n auto --dist loadfile` in pyproject.toml), whole files to a worker, so a file's
module- and session-scoped fixtures are built once. A run of a single file (or of
some of its tests) stays in one process: no workers to start. `-n 0` runs
everything in one process, e.g. for `--pdb`.

Shared simulations: `shared_ensemble(...)` runs a paired experiment once per test
process and hands every later caller with the same arguments the same object;
`small_pair` is the one most figure, report and table tests need (the base market
and fast follow-up, 60 days, two replications). Treat them as read-only: make a
changed copy with `dataclasses.replace`. Use them when a test checks plumbing
(shapes, labels, files written, numbers agreeing with each other); a test of a
statistical claim runs its own experiment, sized for the claim.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parent.parent
BASE = ROOT / "scenarios" / "base" / "market.toml"
FAST = ROOT / "scenarios" / "examples" / "fast_follow_up.toml"

# "ci" keeps the default run within its time budget; "dev" explores more.
settings.register_profile(
    "ci", max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "dev", max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The calibration report's rows (statistical checks of every shipped design over
    three years, about a third of the suite's CPU) run in CI (`CI` set, as `.ci/run`
    does), with `-m calibration`, or when their file is named; elsewhere they are
    skipped, with that said in the summary."""
    if os.environ.get("CI") or "calibration" in config.getoption("markexpr", ""):
        return
    named = {Path(str(arg).split("::")[0]).name for arg in config.args}
    skip = pytest.mark.skip(reason="calibration rows run in CI (CI=true) or with -m calibration")
    for item in items:
        if "calibration" in item.keywords and item.path.name not in named:
            item.add_marker(skip)


@pytest.hookimpl(optionalhook=True)  # a hook of pytest-xdist
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """`-n auto`: no workers when one test file is run, else xdist's one per core."""
    files = {str(arg).split("::")[0] for arg in config.args}
    if len(files) == 1 and files.pop().endswith(".py"):
        return 0
    return None


_ENSEMBLES: dict = {}


def shared_ensemble(
    files: tuple[Path | str, ...] = (BASE, FAST),
    horizon_days: int = 60,
    replications: int = 2,
    overrides: tuple[tuple[str, object], ...] = (),
):
    """The paired ensemble of `files` over `horizon_days`, run serially once per test
    process; later calls with the same arguments return the same (read-only) object.

    `overrides` are dotted-key settings applied to every file, as (key, value) pairs.
    """
    import gtmsim

    key = (tuple(str(f) for f in files), horizon_days, replications, overrides)
    if key not in _ENSEMBLES:
        settings_ = {"simulation.horizon_days": horizon_days, **dict(overrides)}
        scenarios = [gtmsim.load_scenario(f, settings_) for f in files]
        _ENSEMBLES[key] = gtmsim.run_experiment(scenarios, replications, executor="serial")
    return _ENSEMBLES[key]


@pytest.fixture(scope="session")
def small_pair():
    """base and fast_follow_up, 60 days, two paired replications (shared, read-only)."""
    return shared_ensemble()
