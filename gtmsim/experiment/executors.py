"""Where replications run: in this process, in a local process pool, or on a Dask cluster.

Every executor runs the same pure function on the same inputs, so results are
bit-identical whatever the executor and however many workers it has. Results
stream back as they finish (in any order), so finished work can be saved at once.
"""

from __future__ import annotations

import importlib
import os
import signal
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from contextlib import contextmanager
from typing import Any, Protocol

# Modules every replication needs that `import gtmsim` leaves until first use (it stays
# quick). A process pool imports them before it starts: forked workers then share the
# parent's copy instead of each importing its own, and spawned ones import them at start.
WARM_UP_MODULES = ("scipy.special",)


def warm_up() -> None:
    """Import :data:`WARM_UP_MODULES` (in the parent before a fork, and in each worker)."""
    for name in WARM_UP_MODULES:
        importlib.import_module(name)


def _worker_start() -> None:
    """A pool worker's initializer: warm up, and leave Ctrl-C and SIGTERM to the parent.

    A terminal's Ctrl-C reaches every process of the group; a worker that took it
    would die with a traceback, and its finished replication with it. The parent
    decides: it lets running replications finish for :data:`GRACE_S`, then ends them.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})
    warm_up()


# After an interrupt, how long running replications may take to finish (and be kept)
# before the pool is ended: short enough for the command to stop within 2 seconds.
GRACE_S = 0.5


class Executor(Protocol):
    """Runs ``fn`` over items and yields ``(index, result_or_exception)`` as each finishes."""

    name: str

    def run(self, fn: Callable[[Any], Any], items: list) -> Iterator[tuple[int, Any]]: ...


class SerialExecutor:
    """One replication after the other, in this process (easiest to debug)."""

    name = "serial"

    def run(self, fn, items):
        for i, item in enumerate(items):
            try:
                yield i, fn(item)
            except Exception as exc:  # reported by the caller with its seed and scenario
                yield i, exc


class ProcessExecutor:
    """A local process pool (default: one worker per core).

    Workers leave Ctrl-C and SIGTERM to this process. On a KeyboardInterrupt the
    replications already running get :data:`GRACE_S` seconds to finish, and those
    that do are still handed back; then the workers are killed.

    Parameters
    ----------
    workers
        Number of processes; ``None`` uses every core.
    """

    name = "process"

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or os.cpu_count() or 1

    def run(self, fn, items):
        if not items:
            return
        warm_up()
        workers = min(self.workers, len(items))
        pool = ProcessPoolExecutor(max_workers=workers, initializer=_worker_start)
        finished = False
        try:
            with _signals_held():  # forked workers start with Ctrl-C blocked, never half-set
                futures = {pool.submit(fn, item): i for i, item in enumerate(items)}
            unseen = set(futures)  # not yet handed back
            try:
                while unseen:
                    done, _ = wait(unseen, return_when=FIRST_COMPLETED)
                    for future in done:
                        unseen.discard(future)
                        yield futures[future], _outcome(future)
            except KeyboardInterrupt:  # keep what finishes within the grace period, then stop
                for future in unseen:
                    future.cancel()
                done, _ = wait(unseen, timeout=GRACE_S)
                for future in done:
                    if not future.cancelled():
                        yield futures[future], _outcome(future)
                raise
            finished = True
        finally:
            if finished:
                pool.shutdown(wait=True)
            else:  # an interrupt, an error or an abandoned generator: end the workers now
                _end_pool(pool)


@contextmanager
def _signals_held():
    """Hold SIGINT and SIGTERM back while the block runs (delivered after it)."""
    held = {signal.SIGINT, signal.SIGTERM}
    if not hasattr(signal, "pthread_sigmask"):  # Windows: no signal masks
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _outcome(future):
    exc = future.exception()
    return exc if exc is not None else future.result()


def _end_pool(pool: ProcessPoolExecutor) -> None:
    """Stop a pool at once: drop queued work and kill workers still running."""
    processes = list((pool._processes or {}).values())  # no public way to reach them
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.kill()  # workers ignore SIGINT and SIGTERM (see _worker_start)
    for process in processes:
        process.join(timeout=1.0)


class DaskExecutor:
    """A Dask ``distributed`` cluster (optional extra: ``pip install gtmsim[distributed]``).

    Parameters
    ----------
    client
        A ``distributed.Client``, or the address of a scheduler (``"tcp://host:8786"``).
    """

    name = "dask"

    def __init__(self, client) -> None:
        try:
            import distributed
        except ImportError as exc:  # pragma: no cover - depends on the installation
            raise ImportError(
                'executor="dask" needs the distributed extra: pip install "gtmsim[distributed]"'
            ) from exc
        self._distributed = distributed
        self._own = isinstance(client, str)
        self.client = distributed.Client(client) if self._own else client

    def run(self, fn, items):
        futures = self.client.map(fn, items, pure=False)
        index = {f.key: i for i, f in enumerate(futures)}
        try:
            for future in self._distributed.as_completed(futures):
                exc = future.exception()
                yield index[future.key], exc if exc is not None else future.result()
        finally:
            self.client.cancel(futures)

    def close(self) -> None:
        """Close the client if this executor opened it."""
        if self._own:
            self.client.close()


def _active_client():
    """The ``distributed.Client`` in use (the last one created, or set as default)."""
    try:
        import distributed
    except ImportError as exc:  # pragma: no cover - depends on the installation
        raise ImportError(
            'executor="dask" needs the distributed extra: pip install "gtmsim[distributed]"'
        ) from exc
    try:
        return distributed.default_client()
    except ValueError:
        raise ValueError(
            'executor="dask" runs on the active distributed.Client, and there is none: '
            "create one first (distributed.Client(...)), or pass a scheduler address "
            '("tcp://host:8786") or the client itself'
        ) from None


def make_executor(executor: Any = None, *, workers: int | None = None) -> Executor:
    """An executor from a name, a Dask client or address, or an executor object.

    ``None`` or ``"process"``: a local process pool of ``workers`` processes
    (default: every core); ``"serial"``: this process; ``"dask"``: the active
    ``distributed.Client`` (the one created last, as Dask itself picks); a scheduler
    address (``"tcp://host:8786"``) or a ``distributed.Client``: that Dask cluster
    (its size is the cluster's); any object with ``name`` and ``run`` is used as
    is. An executor made here from an address opens its own client: close it with
    its ``close()`` (``run_experiment`` does).
    """
    if executor is None or executor == "process":
        return ProcessExecutor(workers)
    if executor == "serial":
        return SerialExecutor()
    if isinstance(executor, str) and "://" in executor:
        return DaskExecutor(executor)
    if executor == "dask":
        return DaskExecutor(_active_client())
    if hasattr(executor, "run") and hasattr(executor, "name"):
        return executor
    if type(executor).__name__ == "Client":  # a distributed.Client
        return DaskExecutor(executor)
    raise ValueError(
        f"unknown executor {executor!r}: use None, 'serial', 'process', a scheduler address "
        "or a distributed.Client"
    )
