"""The live command: a what-if page for a workshop room, served on this machine."""

from __future__ import annotations

import argparse
import ipaddress
import os
import socket
import sys
from pathlib import Path

import gtmsim
from gtmsim.cli.common import FILE_HELP, BadInput, at_least, scenario_file
from gtmsim.experiment.run import unique_name
from gtmsim.scenario.shipped import display, scenario_folder, shipped_scenarios

DEFAULT_PORT = 8765


def add_live(sub) -> None:
    live = sub.add_parser(
        "live",
        help="a live what-if page for a workshop: move a lever, see the paired answer",
        description="Serve a page where a facilitator picks a baseline and a design, moves "
        "levers (SLA, headcount, KPIs, spend, ...) and sees the paired difference in bookings "
        "with its 95% interval tighten as replications come in. Needs the live extra: "
        'pip install "gtmsim[live]". Listens on 127.0.0.1 unless --host says otherwise.',
    )
    live.add_argument(
        "files",
        nargs="*",
        metavar="FILE",
        type=scenario_file,
        help=f"{FILE_HELP}; offered besides the shipped ones (the first is shown first)",
    )
    live.add_argument(
        "--port",
        type=port_number,
        default=DEFAULT_PORT,
        help=f"port (default {DEFAULT_PORT}; 0: any free one)",
    )
    live.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1, this machine only; 0.0.0.0 exposes the "
        "page to the network: anyone who reaches it can run simulations here)",
    )
    live.add_argument("--jobs", type=at_least(1), help="worker processes (default: every core)")
    live.add_argument("--open", action="store_true", help="open the page in a browser")
    live.set_defaults(func=cmd_live)


def port_number(text: str) -> int:
    """A --port value: 0 (any free port) to 65535."""
    port = at_least(0)(text)
    if port > 65535:
        raise argparse.ArgumentTypeError(f"expected a port from 0 to 65535, got {text!r}")
    return port


def catalogue(files: list[str]) -> dict[str, str]:
    """Design name -> file: the files given (by stem), then the shipped ones (by name).

    The shipped ones are those of the working directory's ``scenarios/`` folder if
    it has one (a checkout), else those installed with the package.
    """
    out: dict[str, str] = {}
    for file in files:
        gtmsim.load_scenario(file)  # a bad file is reported now, not on the page
        out[unique_name(Path(file).stem, out)] = file
    root = scenario_folder()
    given = {os.path.realpath(f) for f in out.values()}
    for path in shipped_scenarios(root):
        name = Path(path).relative_to(root).with_suffix("").as_posix()
        if os.path.realpath(path) not in given and name != "base/market":
            out.setdefault(name, path)
    return out


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket bound and listening before the server starts: an early client waits, not refused."""
    try:
        family = socket.AF_INET6 if ipaddress.ip_address(host).version == 6 else socket.AF_INET
    except ValueError:
        family = socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise BadInput(
            f"--host {host} --port {port}: cannot listen there ({exc.strerror})"
        ) from None
    sock.listen(128)
    return sock


def cmd_live(args: argparse.Namespace) -> int:
    try:
        import uvicorn

        from gtmsim.live.app import create_app
    except ImportError as exc:
        raise BadInput(
            f'gtmsim live needs the live extra ({exc.name} is missing): pip install "gtmsim[live]"'
        ) from None
    designs = catalogue(args.files)
    default = Path(args.files[0]).stem if args.files else display()["live_default"]
    sock = listening_socket(args.host, args.port)
    host, port = sock.getsockname()[:2]
    loopback = ipaddress.ip_address(host).is_loopback
    hosts = ["127.0.0.1", "localhost", "[::1]", "::1"] if loopback else None
    app = create_app(designs, workers=args.jobs, default=default, hosts=hosts)
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}/"
    print(f"gtmsim live: {url}  ({len(designs)} designs; Ctrl-C stops)", flush=True)
    if not loopback:
        print(
            "gtmsim: warning: the page is reachable from the network; anyone who can reach it "
            "can run simulations on this machine",
            file=sys.stderr,
        )
    if args.open:
        import webbrowser

        webbrowser.open(url)
    config = uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=2)
    uvicorn.Server(config).run(sockets=[sock])
    return 0
