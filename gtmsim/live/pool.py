"""Worker processes that can drop a replication half-way: the live page's compute.

A replication cannot be interrupted from inside (a SimPy run has no hook), so a
run that is no longer wanted is stopped by ending its process; a fresh one takes
its place at once. Workers are forked from a fork server that has already
imported the engine, so a replacement is ready in milliseconds, not the second
an import takes. Each result goes back through a pipe that a small thread per
worker reads; ``on_result`` is called from that thread.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
import traceback
from collections.abc import Callable, Hashable
from multiprocessing.connection import Connection
from typing import Any

Task = tuple[Hashable, dict, int]
"""A task: its key, the scenario as JSON data and the replication number."""


def _serve(conn: Connection) -> None:
    """A worker's loop: run each replication it is sent, send back the result or the error."""
    from gtmsim.experiment.run import run_replication

    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        key, scenario_json, replication = task
        cpu = time.process_time()
        try:
            result: Any = run_replication((scenario_json, replication))
            ok = True
        except Exception as exc:  # reported on the page as a message, not a traceback
            result = "".join(traceback.format_exception_only(exc)).strip()
            ok = False
        try:
            conn.send((key, ok, result, time.process_time() - cpu))
        except (BrokenPipeError, OSError):
            return


class _Worker:
    def __init__(
        self,
        ctx: Any,
        on_message: Callable[[_Worker, tuple], None],
        on_exit: Callable[[_Worker], None],
    ) -> None:
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_serve, args=(child,), daemon=True)
        self.process.start()
        child.close()
        self.key: Hashable | None = None
        self.stopped = False
        self._reader = threading.Thread(target=self._read, args=(on_message, on_exit), daemon=True)
        self._reader.start()

    def _read(
        self, on_message: Callable[[_Worker, tuple], None], on_exit: Callable[[_Worker], None]
    ) -> None:
        while True:
            try:
                message = self.conn.recv()
            except (EOFError, OSError):  # the process was ended (or died)
                self.conn.close()  # here, not in stop(): a closed number could be reused
                if not self.stopped:
                    on_exit(self)
                return
            on_message(self, message)

    def stop(self) -> None:
        self.stopped = True
        self.process.kill()
        self.process.join(timeout=5)


class Pool:
    """A fixed number of worker processes running the tasks of one wish list.

    :meth:`want` replaces the wish list: tasks already running that are still on it
    go on, the others are stopped (their workers replaced), and idle workers take
    the next tasks in the list's order.

    Parameters
    ----------
    workers
        How many processes (default: every core).
    on_result
        Called as ``on_result(key, ok, result, cpu_s)`` when a task finishes: ``ok`` False
        means ``result`` is the error's one-line text; ``cpu_s`` is the CPU time it took. Called from a reader thread.
    """

    def __init__(
        self, workers: int | None, on_result: Callable[[Hashable, bool, Any, float], None]
    ) -> None:
        methods = multiprocessing.get_all_start_methods()
        self._ctx = multiprocessing.get_context(
            "forkserver" if "forkserver" in methods else "spawn"
        )
        if "forkserver" in methods:
            self._ctx.set_forkserver_preload(["gtmsim.live.warm"])
        self._on_result = on_result
        self._lock = threading.Lock()
        self._queue: list[Task] = []
        self._closed = False
        self.workers = [self._new() for _ in range(workers or os.cpu_count() or 1)]

    def _new(self) -> _Worker:
        return _Worker(self._ctx, self._message, self._exited)

    def _exited(self, worker: _Worker) -> None:
        """A worker died by itself (out of memory, say): replace it, report its task."""
        worker.process.join(timeout=5)
        with self._lock:
            if self._closed or worker not in self.workers:
                return
            key, worker.key = worker.key, None
            self.workers[self.workers.index(worker)] = self._new()
            self._dispatch()
        if key is not None:
            code = worker.process.exitcode
            message = f"its worker process ended unexpectedly (exit code {code})"
            self._on_result(key, False, message, 0.0)

    def _message(self, worker: _Worker, message: tuple) -> None:
        key, ok, result, cpu_s = message
        with self._lock:
            worker.key = None
            self._dispatch()
        self._on_result(key, ok, result, cpu_s)

    def _dispatch(self) -> None:
        """Give idle workers the next tasks (called with the lock held)."""
        for worker in self.workers:
            if not self._queue or self._closed:
                return
            if worker.key is None:
                key, payload, replication = self._queue.pop(0)
                worker.key = key
                try:
                    worker.conn.send((key, payload, replication))
                except (BrokenPipeError, OSError):  # died: replace it, the task goes back
                    self._queue.insert(0, (key, payload, replication))
                    self.workers[self.workers.index(worker)] = self._new()

    def want(self, tasks: list[Task]) -> None:
        """Run these tasks (in this order), and stop what is running that is not among them."""
        keys = {key for key, _, _ in tasks}
        with self._lock:
            running = set()
            for i, worker in enumerate(self.workers):
                if worker.key is None:
                    continue
                if worker.key in keys:
                    running.add(worker.key)
                else:
                    worker.stop()
                    self.workers[i] = self._new()
            self._queue = [t for t in tasks if t[0] not in running]
            self._dispatch()

    def busy(self) -> list[Hashable]:
        """The keys of the tasks running now."""
        with self._lock:
            return [w.key for w in self.workers if w.key is not None]

    def close(self) -> None:
        """Stop every worker."""
        with self._lock:
            self._closed = True
            self._queue = []
            for worker in self.workers:
                worker.stop()
