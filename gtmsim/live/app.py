"""The live page's web server: a small Starlette app over :class:`~gtmsim.live.engine.Engine`.

Endpoints (JSON unless said otherwise):

- ``GET /``: the page; ``/static/...`` its script and style (package data, nothing
  from the internet).
- ``GET /api/setup``: the designs on offer, the defaults, the current run.
- ``GET /api/levers?design=NAME``: the levers of a design, with its values.
- ``POST /api/run``: start a comparison (``{"baseline", "design", "levers",
  "pairs"}``); 400 with ``problems`` for a request that cannot run.
- ``GET /api/answer/ID?after=V&wait=S``: the answer of a run, as soon as its
  version passes ``V`` (long polling, at most ``S`` seconds).
- ``GET /api/figure/ID/NAME.png``: a figure of a run's finished pairs
  (``bridge``, ``bookings``).
- ``GET /api/history``: the last answers, oldest first.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from importlib import resources

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from gtmsim.live.engine import FIGURES, BadRequest, Engine, Job

MAX_BODY = 64 * 1024
MAX_WAIT_S = 20.0
HEADERS = {
    # the page loads nothing from elsewhere, and runs no script it was not shipped with
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; object-src 'none'; "
    "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


def _problems(exc: BadRequest, status: int = 400) -> JSONResponse:
    return JSONResponse({"problems": exc.problems}, status_code=status, headers=HEADERS)


def _job(engine: Engine, request: Request) -> Job:
    try:
        job_id = int(request.path_params["job"])
    except ValueError:
        job_id = -1
    job = engine.jobs.get(job_id)
    if job is None:
        raise BadRequest(["no such run (it may be too old): start it again"])
    return job


def _number(request: Request, name: str, default: float) -> float:
    try:
        return float(request.query_params.get(name, default))
    except ValueError:
        return default


def create_app(
    catalogue: Mapping[str, str],
    workers: int | None = None,
    default: str | None = None,
    prefetch: bool = True,
    hosts: list[str] | None = None,
) -> Starlette:
    """The live page's app.

    Parameters
    ----------
    catalogue
        Design name -> scenario file: what the page offers (it can name no other file).
    workers
        Worker processes (default: every core).
    default
        The design shown first, as baseline and as design.
    prefetch
        Start replicating the default design as soon as the server is up, so that
        the first lever moved finds its baseline's replications ready.
    hosts
        The host names the page answers to (the ``Host`` header), e.g. the loopback
        names for a server on 127.0.0.1, so that a web page elsewhere cannot reach it
        under a name of its own (DNS rebinding); None: any.
    """
    engine = Engine(catalogue, workers, default)
    static = resources.files("gtmsim.live") / "static"

    @contextlib.asynccontextmanager
    async def lifespan(app):
        await engine.start()
        if prefetch:
            engine.submit({"baseline": engine.default, "design": engine.default})
        try:
            yield
        finally:
            engine.close()

    async def page(request: Request) -> Response:
        return FileResponse(str(static / "index.html"), headers=HEADERS)

    async def setup(request: Request) -> Response:
        current = engine.current
        return JSONResponse(
            {
                "designs": list(engine.catalogue),
                "default": engine.default,
                "pairs": 8,
                "max_pairs": 50,
                "workers_ready": engine.pool is not None,
                "current": engine.answer(current) if current else None,
                "history": engine.entries(),
            },
            headers=HEADERS,
        )

    async def levers(request: Request) -> Response:
        try:
            return JSONResponse(
                engine.levers(request.query_params.get("design", engine.default)), headers=HEADERS
            )
        except BadRequest as exc:
            return _problems(exc)

    async def run(request: Request) -> Response:
        # JSON only: a page elsewhere cannot send that without the browser asking first
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
            return _problems(BadRequest(["expected Content-Type: application/json"]), 415)
        body = await request.body()
        if len(body) > MAX_BODY:
            return _problems(BadRequest(["the request is too large"]), 413)
        try:
            job = engine.submit(json.loads(body or b"{}"))
        except (json.JSONDecodeError, UnicodeDecodeError):
            return _problems(BadRequest(["expected a JSON object"]))
        except BadRequest as exc:
            return _problems(exc)
        return JSONResponse(engine.answer(job), headers=HEADERS)

    async def answer(request: Request) -> Response:
        try:
            job = _job(engine, request)
        except BadRequest as exc:
            return _problems(exc, 404)
        after = int(_number(request, "after", -1))
        wait = min(max(_number(request, "wait", 0.0), 0.0), MAX_WAIT_S)
        await engine.wait(job, after, wait)
        return JSONResponse(engine.answer(job), headers=HEADERS)

    async def figure(request: Request) -> Response:
        name = request.path_params["name"]
        try:
            if name not in FIGURES:
                raise BadRequest([f"no figure {name[:40]!r}; there are {', '.join(FIGURES)}"])
            png = await engine.figure(_job(engine, request), name)
        except BadRequest as exc:
            return _problems(exc, 404)
        except ValueError as exc:  # e.g. a revenue bridge with an empty funnel step
            return _problems(BadRequest([str(exc)]), 404)
        return Response(png, media_type="image/png", headers=HEADERS)

    async def history(request: Request) -> Response:
        return JSONResponse(engine.entries(), headers=HEADERS)

    async def failed(request: Request, exc: Exception) -> Response:
        message = "the server could not answer (a bug: please report it); the page still works"
        return JSONResponse({"problems": [message]}, status_code=500, headers=HEADERS)

    app = Starlette(
        routes=[
            Route("/", page),
            Route("/api/setup", setup),
            Route("/api/levers", levers),
            Route("/api/run", run, methods=["POST"]),
            Route("/api/answer/{job}", answer),
            Route("/api/figure/{job}/{name}.png", figure),
            Route("/api/history", history),
            Mount("/static", StaticFiles(directory=str(static)), name="static"),
        ],
        lifespan=lifespan,
        exception_handlers={Exception: failed},
        middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=hosts)] if hosts else [],
    )
    app.state.engine = engine
    return app
