"""Which settings make a design's difference: switch them back, one group at a time.

The revenue bridge (:func:`gtmsim.revenue_bridge`) says at which funnel step
two designs part ways; :func:`attribute` says which of the design's settings
cause it. It finds every setting in which the design differs from the
baseline, groups them by the table they sit in (``handoff``, ``feedback``,
``deals``, ...) or keeps them one by one, and runs the design once more per
group with that group switched back to the baseline's values. A group's
contribution is what the design loses without it. All variants run with
common random numbers, so contributions are paired differences.

Contributions need not add up to the whole difference: mechanisms interact
(a faster follow-up is worth more when there are more leads to follow up).
The table shows the remainder as its own row.
"""

from __future__ import annotations

import copy
import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from gtmsim.experiment.ensemble import Ensemble
from gtmsim.experiment.run import Progress, run_experiment
from gtmsim.results.metrics import unknown_metrics
from gtmsim.results.summary import mean_ci
from gtmsim.results.table import Table
from gtmsim.scenario.errors import ScenarioError
from gtmsim.scenario.loader import is_whole_value, load_scenario
from gtmsim.scenario.schema import Scenario

Source = Scenario | str | os.PathLike | Mapping[str, Any]

# Not design settings: labels, and the seed (every run of an experiment shares one).
_IGNORED = {("name",), ("description",), ("simulation", "seed")}

KeyPath = tuple[str, ...]


def dotted(path: KeyPath) -> str:
    """A key path as it is written with ``--set``: keys joined with dots."""
    return ".".join(path)


def setting_groups(
    baseline: Scenario, design: Scenario, by: Literal["table", "setting"] = "table"
) -> dict[str, dict[KeyPath, Any]]:
    """The settings in which ``design`` differs, grouped: name -> {key path: baseline value}.

    Key paths are tuples of keys (a channel's name may hold a dot); a group's
    name is the path joined with dots. ``by="table"`` groups settings by the
    table that holds them (``handoff.sla_hours`` and ``handoff.route`` form
    ``handoff``); ``by="setting"`` makes every setting its own group. A
    distribution, a share map or a table whose keys differ or come in another
    order (say, other deal stages) counts as one setting, since only a whole
    one can be switched back; the labels and the seed are left out.
    """
    if by not in ("table", "setting"):
        raise ValueError(f'by: expected "table" or "setting", got {by!r}')
    found: dict[KeyPath, Any] = {}
    _diff(baseline.model_dump(mode="json"), design.model_dump(mode="json"), (), found)
    groups: dict[str, dict[KeyPath, Any]] = {}
    for path, value in found.items():
        name = dotted(path[:-1] if by == "table" and len(path) > 1 else path)
        groups.setdefault(name, {})[path] = value
    return groups


def _diff(old: Any, new: Any, path: KeyPath, found: dict[KeyPath, Any]) -> None:
    if path in _IGNORED or json.dumps(old) == json.dumps(new):  # order matters (deal stages)
        return
    key = path[-1] if path else ""
    if (
        isinstance(old, dict)
        and isinstance(new, dict)
        and list(old) == list(new)
        and not is_whole_value(key, new)
    ):
        for k in new:
            _diff(old[k], new[k], (*path, k), found)
    else:
        found[path] = old


def switched_back(design: Scenario, settings: Mapping[KeyPath, Any]) -> Scenario:
    """``design`` with ``settings`` (key path -> value) replaced whole, validated.

    Raises :class:`ScenarioError` when the result is not a valid scenario (a
    setting that only makes sense together with one outside the group).
    """
    data = design.model_dump(mode="json")
    for (*parents, last), value in settings.items():
        node = data
        for part in parents:
            node = node[part]
        node[last] = copy.deepcopy(value)
    return load_scenario(data)


@dataclass
class Attribution:
    """The result of :func:`attribute`.

    Attributes
    ----------
    baseline, design
        The two designs' names in ``ensemble``.
    groups
        Group name -> {key path: the baseline's value} for every group that was
        run, in the order of the table.
    invalid
        Group name -> why the design is not a valid scenario with that group
        switched back (such groups are not run). A group that is valid only
        with settings outside it that the error names is run with them, as
        ``"<group> + <key>"``.
    ensemble
        Every replication: the baseline, the design, then one variant per group
        (named ``"<design> without <group>"``).
    metrics
        The default metrics of :meth:`table`.
    """

    baseline: str
    design: str
    groups: dict[str, dict[KeyPath, Any]]
    invalid: dict[str, str]
    ensemble: Ensemble
    metrics: list[str]

    @property
    def remainder(self) -> str:
        """The name of the last row: what the groups that ran do not account for."""
        return "interactions and groups not run" if self.invalid else "interactions"

    def table(self, metrics: list[str] | None = None, level: float = 0.95) -> Table:
        """Per metric: the whole difference, each group's contribution, the remainder.

        Returns
        -------
        Table
            Columns ``metric``, ``row`` (``"design - baseline"``, a group, or
            :attr:`remainder`), ``settings`` (the group's keys), ``mean`` and
            its ``ci_low`` / ``ci_high`` (paired, Student t over replications),
            and ``share`` of the whole difference. A group's ``mean`` is the
            design's value minus the value with the group switched back; the
            remainder is the whole difference minus the sum of the groups (the
            interactions, and the groups that could not be run). Replications
            in which any of the runs has no value of the metric are left out.
        """
        cols: dict[str, list] = {
            k: [] for k in ("metric", "row", "settings", "mean", "ci_low", "ci_high", "share")
        }

        def add(metric: str, row: str, settings: str, diffs: np.ndarray, total: float) -> None:
            mean, half = mean_ci(diffs, level)
            cols["metric"].append(metric)
            cols["row"].append(row)
            cols["settings"].append(settings)
            cols["mean"].append(mean)
            cols["ci_low"].append(mean - half)
            cols["ci_high"].append(mean + half)
            cols["share"].append(mean / total if total else math.nan)

        index = self.ensemble.design_index
        variants = [index(self.variant(name)) for name in self.groups]
        for metric in metrics or self.metrics:
            x = self.ensemble.metric(metric)
            x = x[:, ~np.isnan(x[[index(self.baseline), index(self.design), *variants]]).any(0)]
            design = x[index(self.design)]
            whole = design - x[index(self.baseline)]
            total = float(whole.mean()) if whole.size else math.nan
            add(metric, "design - baseline", "", whole, total)
            parts = np.zeros_like(whole)
            for (name, settings), v in zip(self.groups.items(), variants, strict=True):
                part = design - x[v]
                parts += part
                add(metric, name, ", ".join(map(dotted, settings)), part, total)
            add(metric, self.remainder, "", whole - parts, total)
        return Table(cols)

    def variant(self, group: str) -> str:
        """The name in ``ensemble`` of the design with ``group`` switched back."""
        return _variant(self.design, group)


def attribute(
    baseline: Source,
    design: Source,
    *,
    metrics: list[str] | None = None,
    by: Literal["table", "setting"] = "table",
    replications: int | str = 5,
    seed: int | None = None,
    executor: Any = None,
    workers: int | None = None,
    out: str | os.PathLike | None = None,
    progress: Progress | None = None,
) -> Attribution:
    """Run ``design`` once per group of its differing settings, that group switched back.

    Parameters
    ----------
    baseline, design
        :class:`Scenario` objects, scenario files or scenario data.
    metrics
        Default metrics of :meth:`Attribution.table` (default ``bookings`` and
        ``bookings_net_of_gtm_cost_usd``); every metric is recorded either way.
    by
        ``"table"`` (default): one group per table of settings; ``"setting"``:
        one group per setting (more runs, finer answers).
    replications, seed, executor, workers, out, progress
        As for :func:`~gtmsim.experiment.run.run_experiment` (``"auto"``
        replicates until the interval of bookings is narrow enough); the
        baseline, the design and every variant share the replications' random
        streams, and ``out`` keeps every replication so that a rerun resumes.

    Returns
    -------
    Attribution

    Raises
    ------
    ValueError
        When the designs do not differ, when no group can be switched back,
        or for an unknown metric.
    ScenarioError
        For a file or data that is not a valid scenario.
    """
    base = baseline if isinstance(baseline, Scenario) else load_scenario(baseline)
    des = design if isinstance(design, Scenario) else load_scenario(design)
    metrics = list(metrics or ("bookings", "bookings_net_of_gtm_cost_usd"))
    unknown = unknown_metrics(metrics)
    if unknown:
        raise ValueError(f"unknown metric(s) {unknown}; `gtmsim metrics` lists them")
    runs, run_groups, invalid = attribution_runs(base, des, by)
    ensemble = run_experiment(
        runs,
        replications,
        seed=seed,
        executor=executor,
        workers=workers,
        out=out,
        progress=progress,
    )
    return Attribution(runs[0].name, des.name, run_groups, invalid, ensemble, metrics)


def attribution_runs(
    baseline: Scenario, design: Scenario, by: Literal["table", "setting"] = "table"
) -> tuple[list[Scenario], dict[str, dict[KeyPath, Any]], dict[str, str]]:
    """What :func:`attribute` runs: the scenarios, the groups switched back, those that cannot be.

    The scenarios are the baseline, the design and one variant per group, each
    named as in the ensemble; a group valid only with differing settings
    outside it that its error names is switched back with them, as
    ``"<group> + <key>"``. Raises ``ValueError`` when the designs do not
    differ or no group can be switched back.
    """
    groups = setting_groups(baseline, design, by)
    if not groups:
        raise ValueError(f"{design.name!r} and {baseline.name!r} have the same settings")
    b_name = f"{baseline.name} (baseline)" if baseline.name == design.name else baseline.name
    runs = [baseline.model_copy(update={"name": b_name}), design]
    run_groups: dict[str, dict[KeyPath, Any]] = {}
    invalid: dict[str, str] = {}
    differing = {dotted(p): (p, v) for settings in groups.values() for p, v in settings.items()}
    for name, settings in groups.items():
        try:
            variant = switched_back(design, settings)
        except ScenarioError as exc:  # try once more with the differing settings it names
            extra = dict(differing[p.key] for p in exc.problems if p.key in differing)
            extra = {p: v for p, v in extra.items() if p not in settings}
            if not extra:
                invalid[name] = str(exc)
                continue
            try:
                variant = switched_back(design, {**settings, **extra})
            except ScenarioError as again:
                invalid[name] = str(again)
                continue
            name = " + ".join([name, *map(dotted, extra)])
            settings = {**settings, **extra}
        run_groups[name] = settings
        runs.append(variant.model_copy(update={"name": _variant(design.name, name)}))
    if not run_groups:
        reasons = "\n".join(f"{name}: {why}" for name, why in invalid.items())
        hint = "; try --by table" if by == "setting" else ""
        raise ValueError(f"no group of settings can be switched back{hint}:\n{reasons}")
    return runs, run_groups, invalid


def _variant(design: str, group: str) -> str:
    return f"{design} without {group}"


__all__ = [
    "Attribution",
    "attribute",
    "attribution_runs",
    "dotted",
    "setting_groups",
    "switched_back",
]
