"""The live page: levers from the schema, the checks on what the page sends, the endpoints."""

from __future__ import annotations

import math
import os
import re
import time
import typing
import warnings
from importlib import resources

import pytest

pytest.importorskip("starlette", reason="the live extra is not installed")
with warnings.catch_warnings():  # newer Starlette would rather have httpx2; httpx works
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

import gtmsim  # noqa: E402
from gtmsim.live.app import create_app  # noqa: E402
from gtmsim.live.levers import LEVERS, _field, check, levers  # noqa: E402
from gtmsim.scenario.fields import members  # noqa: E402
from gtmsim.scenario.keys import split_key  # noqa: E402
from tests.conftest import ROOT  # noqa: E402

DESIGNS = {n: str(ROOT / "scenarios" / f"{n}.toml") for n in ("over_the_wall", "defined")}
SHORT = {"simulation.horizon_days": 30}
JSON = {"Content-Type": "application/json"}


# ------------------------------------------------------------------ levers


@pytest.mark.parametrize("name", ["over_the_wall", "defined", "aligned", "oc2", "integrated"])
def test_every_lever_is_drawn_from_the_schema_with_the_designs_value(name):
    scenario = gtmsim.load_scenario(ROOT / "scenarios" / f"{name}.toml")
    drawn = levers(scenario)
    channels = [k for k in (lever["key"] for lever in drawn) if k.startswith("market.channels.")]
    assert len(channels) == len(scenario.market.channels)
    assert len(drawn) == len(LEVERS) - 1 + len(channels)
    for lever in drawn:
        field = _field(split_key(lever["key"]))
        assert lever["help"] == field.description
        if lever["kind"] == "choice":
            words = [a for m in members(field.annotation) for a in typing.get_args(m)]
            assert set(lever["choices"]) <= set(words) and lever["value"] in lever["choices"]
        else:
            assert lever["min"] <= lever["max"] and lever["step"] > 0
            if lever["value"] is not None:
                assert lever["min"] <= lever["value"] <= lever["max"]
    sla = next(lever for lever in drawn if lever["key"] == "handoff.sla_hours")
    assert sla["optional"] and sla["unit"] == "hours"


def test_lever_values_are_checked_for_their_form_before_the_schema_sees_them():
    offered = levers(gtmsim.load_scenario(DESIGNS["over_the_wall"]))
    overrides, problems = check(
        {"handoff.sla_hours": 2, "sales.sdr.headcount": 3.0, "handoff.route": "pooled"}, offered
    )
    assert not problems
    assert overrides == {
        "handoff.sla_hours": 2.0,
        "sales.sdr.headcount": 3,
        "handoff.route": "pooled",
    }
    assert check({"handoff.sla_hours": None}, offered)[0] == {"handoff.sla_hours": "none"}
    bad = {
        "handoff.sla_hours": "__import__('os')",
        "sales.sdr.headcount": 2.5,
        "handoff.route": "nowhere",
        "feedback.cadence": None,
        "market.channels.paid_search.spend_usd_per_week": True,
        "../../etc/passwd": 1,
    }
    _, problems = check(bad, offered)
    keys = {p.key for p in problems}
    assert keys == set(bad)
    assert check([1, 2], offered)[1]


# ------------------------------------------------------------------ endpoints


@pytest.fixture(scope="module")
def client():
    app = create_app(DESIGNS, workers=2, prefetch=False)
    with TestClient(app) as c:
        c.portal.call(app.state.engine.ready)  # the page is served before the workers are up
        yield c


def follow(client, job: dict, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while job["status"] == "running" and time.monotonic() < deadline:
        job = client.get(f"/api/answer/{job['job']}?after={job['version']}&wait=10").json()
    return job


def test_the_page_and_its_files_come_from_the_package_and_fetch_nothing_else(client):
    page = client.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "default-src 'self'" in page.headers["content-security-policy"]
    for name in ("live.js", "live.css"):
        assert client.get(f"/static/{name}").status_code == 200
    for file in (resources.files("gtmsim.live") / "static").iterdir():
        text = file.read_text()
        assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}/", text), file.name
        assert "innerHTML" not in text and "eval(" not in text


def test_setup_lists_the_designs_and_levers_come_per_design(client):
    setup = client.get("/api/setup").json()
    assert setup["designs"] == list(DESIGNS) and setup["default"] == "over_the_wall"
    drawn = client.get("/api/levers?design=defined").json()
    assert {lever["key"] for lever in drawn} >= {"handoff.sla_hours", "feedback.cadence"}
    missing = client.get("/api/levers?design=../../pyproject")
    assert missing.status_code == 400 and "unknown design" in missing.json()["problems"][0]


@pytest.mark.parametrize(
    "body, says",
    [
        (b"not json", "expected a JSON object"),
        (b"[1]", "expected a JSON object"),
        (b'{"design": "scenarios/aligned.toml"}', "unknown design"),
        (b'{"pairs": 1000}', "pairs"),
        (b'{"levers": {"handoff.sla_hours": -1}}', "handoff.sla_hours"),
        (b'{"levers": {"handoff.sla_hours": "1+1"}}', "expected a number"),
        (b'{"levers": {"handoff.qualifier": "sdr", "sales.sdr.headcount": 0}}', "hire SDRs"),
        (b'{"levers": {"no.such.key": 1}}', "not a lever"),
    ],
)
def test_a_bad_request_gets_a_message_never_a_traceback(client, body, says):
    response = client.post("/api/run", content=body, headers=JSON)
    assert response.status_code == 400
    problems = response.json()["problems"]
    assert any(says in p for p in problems), problems
    assert not any("Traceback" in p for p in problems)


def test_a_run_streams_paired_answers_with_an_interval_then_comes_from_the_cache(client):
    request = {"baseline": "over_the_wall", "design": "over_the_wall", "pairs": 3}
    request["levers"] = {**SHORT, "handoff.sla_hours": 1}
    job = client.post("/api/run", json=request).json()
    seen = []
    while job["status"] == "running":
        job = client.get(f"/api/answer/{job['job']}?after={job['version']}&wait=10").json()
        seen.append(job["pairs_done"])
    assert job["status"] == "done" and job["pairs_done"] == 3
    assert seen == sorted(seen)
    bookings = job["headline"][0]
    assert bookings["metric"] == "bookings"
    assert bookings["ci_low"] <= bookings["difference"] <= bookings["ci_high"]
    assert math.isclose(bookings["difference"], bookings["design_mean"] - bookings["baseline_mean"])
    total = job["bridge"][-1]
    assert total["kind"] == "total" and math.isclose(
        total["contribution_usd"], bookings["difference"], rel_tol=1e-9, abs_tol=1e-6
    )
    assert "SLA" in job["label"]
    png = client.get(f"/api/figure/{job['job']}/bookings.png")
    assert png.status_code == 200 and png.content[:4] == b"\x89PNG"
    assert client.get(f"/api/figure/{job['job']}/nothing.png").status_code == 404
    again = client.post("/api/run", json=request).json()  # the same setting: at once
    assert again["status"] == "done" and again["headline"] == job["headline"]
    history = client.get("/api/history").json()
    assert history[-1]["request"]["levers"]["handoff.sla_hours"] == 1.0
    assert len([h for h in history if h["request"] == job["request"]]) == 1


def test_only_json_starts_a_run_and_only_the_names_given_reach_the_page():
    plain = TestClient(create_app(DESIGNS, prefetch=False))  # no lifespan: no workers
    refused = plain.post("/api/run", content=b"{}", headers={"Content-Type": "text/plain"})
    assert refused.status_code == 415
    local = TestClient(create_app(DESIGNS, prefetch=False, hosts=["127.0.0.1"]))
    assert local.get("/", headers={"Host": "evil.example"}).status_code == 400
    assert local.get("/", headers={"Host": "127.0.0.1:8765"}).status_code == 200


def test_the_same_design_twice_differs_by_exactly_nothing(client):
    request = {"baseline": "defined", "design": "defined", "pairs": 2, "levers": SHORT}
    job = follow(client, client.post("/api/run", json=request).json())
    assert job["status"] == "done"
    assert job["headline"][0]["difference"] == 0.0


def test_every_number_says_whether_it_is_a_share_and_its_unit(client):
    levers = {"simulation.horizon_days": 90}  # long enough for bookings: a revenue bridge
    request = {"baseline": "over_the_wall", "design": "defined", "pairs": 2, "levers": levers}
    job = follow(client, client.post("/api/run", json=request).json())
    assert job["status"] == "done" and not job["no_bridge"]
    rows = {r["metric"]: r for r in job["headline"] + job["detail"]}
    assert rows["win_rate"]["share"] and rows["mqls_never_followed_up_share"]["share"]
    assert rows["win_rate"]["unit"] == "" and rows["mqls"] == {**rows["mqls"], "share": False}
    assert rows["bookings"]["unit"] == rows["marketing_cost_usd"]["unit"] == "USD"
    assert not rows["bookings"]["share"]
    steps = {r["step"]: r for r in job["bridge"]}
    assert steps["mqls / inquiries"]["share"] and steps["mqls / inquiries"]["unit"] == ""
    per_deal = steps["bookings_inbound_usd / deals_won_inbound"]
    assert per_deal["unit"] == "USD" and not per_deal["share"]
    assert steps["bookings"]["unit"] == "USD" and steps["inquiries"] == {
        **steps["inquiries"],
        "share": False,
        "unit": "",
    }


def test_a_new_setting_stops_the_run_in_flight(client):
    engine = client.app.state.engine
    slow = {"design": "defined", "pairs": 50, "levers": {"simulation.horizon_days": 200}}
    first = client.post("/api/run", json=slow).json()
    fast = {"design": "defined", "pairs": 2, "levers": {**SHORT, "feedback.cadence": "weekly"}}
    second = client.post("/api/run", json=fast).json()
    assert client.get(f"/api/answer/{first['job']}").json()["status"] == "stopped"
    wanted = set(engine.jobs[second["job"]].hashes)
    assert all(key[0] in wanted for key in engine.pool.busy())
    assert follow(client, second)["status"] == "done"


# ------------------------------------------------------------------ the command


def test_the_command_offers_the_files_given_first_then_the_shipped_designs(monkeypatch):
    from gtmsim.cli.live import catalogue

    monkeypatch.chdir(ROOT)
    designs = catalogue([DESIGNS["defined"], "scenarios/defined.toml"])
    assert list(designs)[:2] == ["defined", "defined#2"]
    assert "over_the_wall" in designs and "examples/fast_follow_up" in designs
    assert "base/market" not in designs


def test_the_socket_listens_before_the_server_starts_and_a_taken_port_is_a_message():
    import socket

    from gtmsim.cli.common import BadInput
    from gtmsim.cli.live import listening_socket

    sock = listening_socket("127.0.0.1", 0)
    try:
        host, port = sock.getsockname()
        assert host == "127.0.0.1"
        with socket.create_connection((host, port), timeout=5):  # queued, not refused
            pass
        with pytest.raises(BadInput, match="cannot listen there"):
            listening_socket("127.0.0.1", port).close()
    finally:
        sock.close()


def test_a_worker_that_dies_is_replaced_and_its_task_reported():
    import os
    import signal
    import threading

    from gtmsim.live.pool import Pool

    results = []
    done = threading.Event()

    def on_result(key, ok, result, cpu_s):
        results.append((key, ok, result))
        done.set()

    scenario = gtmsim.load_scenario(DESIGNS["over_the_wall"], {"simulation.horizon_days": 3000})
    pool = Pool(1, on_result)
    try:
        pool.want([("long", scenario.model_dump(mode="json"), 0)])
        deadline = time.monotonic() + 30
        while not pool.busy() and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(pool.workers[0].process.pid, signal.SIGKILL)  # not stopped by the pool
        assert done.wait(30)
        assert results[0][:2] == ("long", False) and "ended unexpectedly" in results[0][2]
        assert pool.workers[0].process.is_alive() and pool.busy() == []
    finally:
        pool.close()


def test_without_the_live_extra_the_command_says_what_to_install(monkeypatch, capsys):
    import sys

    from gtmsim.cli import main

    monkeypatch.setitem(sys.modules, "uvicorn", None)  # as if it were not installed
    assert main(["live"]) == 2
    assert 'pip install "gtmsim[live]"' in capsys.readouterr().err


def test_away_from_a_checkout_the_installed_designs_are_offered(monkeypatch, tmp_path):
    from gtmsim.cli.live import catalogue

    monkeypatch.chdir(tmp_path)  # no scenarios/ folder here
    designs = catalogue([])
    assert {"over_the_wall", "aligned", "smb/defined"} <= set(designs)
    assert all(os.path.isfile(path) for path in designs.values())
