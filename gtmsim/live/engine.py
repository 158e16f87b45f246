"""The live page's state: the run the room is watching, the cache, the history.

One run at a time is wanted: a new setting replaces the run in flight (its
replications that the new one does not need are stopped). Replications are
cached by scenario content hash and replication number, so the baseline's runs
serve every what-if against it, and a setting computed before answers at once.
Everything here runs on the server's event loop; the pool's reader threads only
hand results over to it.
"""

from __future__ import annotations

import asyncio
import io
import threading
import time
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from gtmsim.experiment.compare import compare, revenue_bridge, step_is_share, step_unit
from gtmsim.experiment.ensemble import Ensemble, Replication
from gtmsim.experiment.run import resolve_designs
from gtmsim.live.levers import check, levers
from gtmsim.live.pool import Pool
from gtmsim.results.metrics import is_share, unit
from gtmsim.results.storage import json_safe
from gtmsim.scenario.errors import Problem, ScenarioError
from gtmsim.scenario.loader import load_scenario
from gtmsim.scenario.schema import Scenario

HEADLINE = ("bookings", "bookings_net_of_gtm_cost_usd")
"""The paired differences the page leads with."""
DETAIL = (
    "deals_won",
    "win_rate",
    "mqls",
    "first_response_hours_median",
    "mqls_never_followed_up_share",
    "marketing_cost_usd",
    "sales_cost_usd",
)
"""The other paired differences it lists."""
FIGURES = ("bridge", "bookings")
MAX_PAIRS = 50
HISTORY = 12
CACHE_SIZE = 4000


class BadRequest(Exception):
    """What the page sent cannot be run; ``problems`` say why (shown on the page)."""

    def __init__(self, problems: list[Problem | str]) -> None:
        self.problems = [str(p) for p in problems]
        super().__init__("\n".join(self.problems))


@dataclass
class Job:
    """One comparison the page asked for: a baseline, a design with its levers, a number of pairs."""

    id: int
    key: tuple
    names: list[str]
    scenarios: list[Scenario]
    hashes: list[str]
    pairs: int
    request: dict[str, Any]
    changes: list[str]
    started: float = field(default_factory=time.perf_counter)
    status: str = "running"  # running, done, failed, stopped (another setting replaced it)
    message: str = ""
    version: int = 0
    first_pair_s: float | None = None
    done_s: float | None = None

    def label(self) -> str:
        what = "; ".join(self.changes) if self.changes else "as in its file"
        return f"{self.request['design']} ({what}) vs {self.request['baseline']}"


class Engine:
    """Runs what the page asks for and answers with paired differences as they come in.

    Parameters
    ----------
    catalogue
        Design name -> scenario file: the only files the page can name.
    workers
        Worker processes (default: every core).
    default
        The design shown first (baseline and design alike).
    """

    def __init__(
        self, catalogue: Mapping[str, str], workers: int | None = None, default: str | None = None
    ) -> None:
        if not catalogue:
            raise ValueError("the live page needs at least one scenario")
        self.catalogue = dict(catalogue)
        self.default = default if default in self.catalogue else next(iter(self.catalogue))
        self.workers = workers
        self.pool: Pool | None = None
        self.cache: OrderedDict[tuple[str, int], Replication] = OrderedDict()
        self.errors: dict[tuple[str, int], str] = {}
        self.cpu_s: dict[tuple[str, int], float] = {}  # CPU time of each replication run here
        self.jobs: OrderedDict[int, Job] = OrderedDict()
        self.current: Job | None = None
        self.history: list[int] = []
        self._next_id = 1
        self._changed: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._answers: dict[tuple[int, int], dict] = {}
        self._figures: OrderedDict[tuple[int, int, str], bytes] = OrderedDict()
        self._draw_lock = threading.Lock()
        self._closed = False
        self._starting: asyncio.Task | None = None

    # ------------------------------------------------------------ life

    async def start(self) -> None:
        """Start the workers (the first replications can start as soon as this returns)."""
        self._loop = asyncio.get_running_loop()
        self._changed = asyncio.Event()
        # The first interval needs scipy.stats and the first figure matplotlib: imported in a
        # thread while the workers start and the first replications run, not on the event
        # loop when the room is waiting.
        self._warming = threading.Thread(target=_warm_up, daemon=True)
        self._warming.start()
        # The page is served while the workers start (a second or more: a fresh interpreter
        # imports the engine); what is asked meanwhile starts as soon as they are up.
        self._starting = asyncio.create_task(self._start_pool())

    async def _start_pool(self) -> None:
        pool = await asyncio.to_thread(Pool, self.workers, self._on_result)
        if self._closed:
            pool.close()
            return
        self.pool = pool
        self._schedule()

    async def ready(self) -> None:
        """Wait until the workers are up."""
        await self._starting

    def close(self) -> None:
        """Stop the workers."""
        self._closed = True
        if self.pool is not None:
            self.pool.close()
            self.pool = None

    # ------------------------------------------------------------ what the page can ask

    def load(self, name: str, overrides: Mapping[str, Any] | None = None) -> Scenario:
        """A design of the catalogue (by name, never by path), with overrides."""
        if not isinstance(name, str) or name not in self.catalogue:
            raise BadRequest([f"unknown design {str(name)[:80]!r}; choose one of the list"])
        try:
            return load_scenario(self.catalogue[name], overrides or {})
        except ScenarioError as exc:
            raise BadRequest(exc.problems) from None

    def levers(self, name: str) -> list[dict[str, Any]]:
        """The levers of one design, with its values."""
        return levers(self.load(name))

    def submit(self, request: Any) -> Job:
        """Start the comparison a request asks for (or return the one already running it).

        ``request``: ``{"baseline": name, "design": name, "levers": {key: value},
        "pairs": n}``. Levers move the design; shared ones (the horizon) both.
        """
        if not isinstance(request, dict):
            raise BadRequest(["expected a JSON object"])
        baseline, design = request.get("baseline", self.default), request.get("design")
        design = self.default if design is None else design
        pairs = request.get("pairs", 8)
        if isinstance(pairs, bool) or not isinstance(pairs, int) or not 2 <= pairs <= MAX_PAIRS:
            raise BadRequest([f"pairs: expected a whole number from 2 to {MAX_PAIRS}"])
        offered = self.levers(design)
        overrides, problems = check(request.get("levers") or {}, offered)
        if problems:
            raise BadRequest(problems)
        shared_keys = {lever["key"] for lever in offered if lever["shared"]}
        shared = {k: v for k, v in overrides.items() if k in shared_keys}
        base = self.load(baseline, shared)
        what_if = self.load(design, overrides)
        names = [baseline, design if design != baseline else "what-if"]
        names, scenarios = resolve_designs(dict(zip(names, [base, what_if], strict=True)), None)
        hashes = [s.content_hash() for s in scenarios]
        key = (*hashes, pairs)
        current = self.current
        if current is not None and current.key == key and current.status in ("running", "done"):
            return current
        by_key = {lever["key"]: lever for lever in offered}
        changes = [
            f"{by_key[k]['label']} {_show(v)}{' ' + by_key[k]['unit'] if v != 'none' else ''}"
            for k, v in overrides.items()
            if _changed(by_key[k]["value"], v)
        ]
        clean = {
            "baseline": baseline,
            "design": design,
            "pairs": pairs,
            "levers": {k: (None if v == "none" else v) for k, v in overrides.items()},
        }
        job = Job(self._next_id, key, names, scenarios, hashes, pairs, clean, changes)
        self._next_id += 1
        self.jobs[job.id] = job
        while len(self.jobs) > 100:
            self.jobs.popitem(last=False)
        if current is not None and current.status == "running":
            current.status = "stopped"
            current.version += 1
        self.current = job
        self._remember(job)
        self._schedule()
        return job

    def _remember(self, job: Job) -> None:
        same = [i for i in self.history if i in self.jobs and self.jobs[i].key == job.key]
        self.history = [i for i in self.history if i not in same and i in self.jobs] + [job.id]
        self.history = self.history[-HISTORY:]

    # ------------------------------------------------------------ running

    def _schedule(self) -> None:
        job = self.current
        if job is None or self.pool is None:
            return
        tasks = []
        payloads = {}
        for r in range(job.pairs):
            for h, s in zip(job.hashes, job.scenarios, strict=True):
                if (h, r) in self.errors:
                    self._fail(job, self.errors[(h, r)])
                    return
                if (h, r) not in self.cache and (h, r) not in {t[0] for t in tasks}:
                    payload = payloads.setdefault(h, s.model_dump(mode="json"))
                    tasks.append(((h, r), payload, r))
        self._progress(job)
        self.pool.want(tasks)

    def _on_result(self, key: tuple[str, int], ok: bool, result: Any, cpu_s: float) -> None:
        """From a reader thread: hand the result to the event loop."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._store, key, ok, result, cpu_s)

    def _store(self, key: tuple[str, int], ok: bool, result: Any, cpu_s: float = 0.0) -> None:
        self.cpu_s[key] = cpu_s
        if ok:
            self.cache[key] = result
            self.cache.move_to_end(key)
            while len(self.cache) > CACHE_SIZE:
                self.cpu_s.pop(self.cache.popitem(last=False)[0], None)
        else:
            self.errors[key] = result
        job = self.current
        if job is not None and job.status == "running":
            if not ok and key[0] in job.hashes:
                self._fail(job, result)
            else:
                self._progress(job)

    def _fail(self, job: Job, error: str) -> None:
        job.status = "failed"
        job.message = f"a replication failed: {error}"
        job.version += 1
        self._notify()

    def _progress(self, job: Job) -> None:
        done = len(self.complete(job))
        before = job.version
        if done and job.first_pair_s is None:
            job.first_pair_s = time.perf_counter() - job.started
        if done == job.pairs and job.status == "running":
            job.status = "done"
            job.done_s = time.perf_counter() - job.started
        job.version = done + (job.status != "running")
        if job.version != before:
            self._notify()

    def _notify(self) -> None:
        if self._changed is not None:
            self._changed.set()
            self._changed = asyncio.Event()

    def complete(self, job: Job) -> list[int]:
        """The replications of a job whose every design is in the cache."""
        return [r for r in range(job.pairs) if all((h, r) in self.cache for h in job.hashes)]

    async def wait(self, job: Job, after: int, timeout: float) -> None:
        """Return when the job has moved past version ``after`` (or after ``timeout`` s)."""
        deadline = time.monotonic() + timeout
        while job.version <= after and job.status == "running":
            left = deadline - time.monotonic()
            if left <= 0 or self._changed is None:
                return
            try:
                await asyncio.wait_for(self._changed.wait(), left)
            except TimeoutError:
                return

    # ------------------------------------------------------------ answers

    def ensemble(self, job: Job, reps: list[int]) -> Ensemble:
        """The job's finished pairs as an ensemble (baseline first)."""
        runs = {(d, r): self.cache[(h, r)] for d, h in enumerate(job.hashes) for r in reps}
        manifest = {"designs": job.names, "scenario_hashes": job.hashes, "replications": len(reps)}
        return Ensemble.from_replications(job.names, job.scenarios, reps, runs, manifest)

    def answer(self, job: Job) -> dict[str, Any]:
        """Where the job stands: status, pairs done and, from the first pair on, the answer."""
        reps = self.complete(job)
        out: dict[str, Any] = {
            "job": job.id,
            "status": job.status,
            "message": job.message,
            "version": job.version,
            "pairs": job.pairs,
            "pairs_done": len(reps),
            "request": job.request,
            "label": job.label(),
            "names": job.names,
            "hashes": job.hashes,
            "first_pair_s": job.first_pair_s,
            "done_s": job.done_s,
            "current": job is self.current,
            "cpu_s": [[self.cpu_s.get((h, r)) for h in job.hashes] for r in range(job.pairs)],
        }
        if reps:
            memo = (job.id, len(reps))
            if memo not in self._answers:
                self._answers[memo] = self._numbers(job, reps)
                while len(self._answers) > 200:
                    self._answers.pop(next(iter(self._answers)))
            out.update(self._answers[memo])
        return out

    def _numbers(self, job: Job, reps: list[int]) -> dict[str, Any]:
        ensemble = self.ensemble(job, reps)
        metrics = [m for m in HEADLINE + DETAIL if m in ensemble.metrics]
        table = compare(ensemble, 0, metrics)
        rows = {
            r["metric"]: {**json_safe(r), "share": is_share(r["metric"]), "unit": unit(r["metric"])}
            for r in table.rows()
        }
        try:
            bridge = [
                {**json_safe(r), **_step_kind(r["step"])}
                for r in revenue_bridge(ensemble, 0, 1).rows()
            ]
            no_bridge = ""
        except ValueError as exc:
            bridge, no_bridge = [], str(exc)
        return {
            "reps": reps,
            "headline": [rows[m] for m in HEADLINE if m in rows],
            "detail": [rows[m] for m in DETAIL if m in rows],
            "bridge": bridge,
            "no_bridge": no_bridge,
        }

    def entries(self) -> list[dict[str, Any]]:
        """The history, oldest first: each earlier answer's settings and bookings difference."""
        out = []
        for i in self.history:
            job = self.jobs[i]
            reps = self.complete(job)
            head = self.answer(job).get("headline", [None])[0] if reps else None
            out.append(
                {
                    "job": job.id,
                    "label": job.label(),
                    "request": job.request,
                    "pairs_done": len(reps),
                    "pairs": job.pairs,
                    "bookings": head,
                    "current": job is self.current,
                }
            )
        return out

    async def figure(self, job: Job, name: str) -> bytes:
        """A PNG of the job's finished pairs: the revenue bridge or cumulative bookings."""
        reps = self.complete(job)
        if not reps:
            raise BadRequest(["no finished pair yet"])
        memo = (job.id, len(reps), name)
        if memo not in self._figures:
            ensemble = self.ensemble(job, reps)
            self._figures[memo] = await asyncio.to_thread(self._draw, ensemble, name)
            while len(self._figures) > 40:
                self._figures.popitem(last=False)
        return self._figures[memo]

    def _draw(self, ensemble: Ensemble, name: str) -> bytes:
        from gtmsim import plots

        with self._draw_lock:  # matplotlib draws one figure at a time
            if name == "bridge":
                fig = plots.revenue_bridge(ensemble, 0, 1)
            else:
                fig = plots.cumulative_bookings(ensemble)
            buffer = io.BytesIO()
            fig.savefig(buffer, format="png", dpi=55)
            return buffer.getvalue()


def _warm_up() -> None:
    import scipy.stats  # noqa: F401

    import gtmsim.plots  # noqa: F401


def _step_kind(step: str) -> dict[str, Any]:
    """What a revenue bridge step's values are, for the page to show them: a count,
    USD (a subtotal, bookings per deal) or a ratio of two counts (a share)."""
    return {"share": step_is_share(step), "unit": step_unit(step)}


def _changed(old: Any, new: Any) -> bool:
    if new == "none":
        return old is not None
    return old != new


def _show(value: Any) -> str:
    if value == "none":
        return "off"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
