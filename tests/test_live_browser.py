"""The live page in a real browser: Debian's headless chromium, driven by Playwright.

The server is started as a user starts it (``gtmsim live --port 0``); the test
shortens the horizon with its lever, moves the SLA slider on over_the_wall and
waits for the new paired answer with its interval. Run as a script
(``python -m tests.test_live_browser plots/live.png``) it takes the README's
screenshot of a full simulated year instead.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator

import pytest

from tests.conftest import ROOT

BROWSER = shutil.which("chromium") or shutil.which("chromium-browser")


@contextlib.contextmanager
def live_server(*args: str) -> Iterator[str]:
    """``gtmsim live`` on a free port, from the checkout (its shipped scenarios); yields the URL."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "gtmsim", "live", "--port", "0", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        found = re.search(r"http://\S+", line)
        assert found, f"no address printed: {line!r} {proc.stderr.read() if proc.poll() else ''}"
        yield found.group(0)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


@contextlib.contextmanager
def browser_page(width: int = 1400, height: int = 1000):
    """A page of headless chromium (Debian's; Playwright downloads nothing)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=BROWSER, headless=True)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            yield page
        finally:
            browser.close()


def slider(page, key: str):
    return page.locator(f'input[type=range][name="{key}"]')


def move_sla(page, presses: int) -> None:
    """Switch the SLA on (its "none" box) and move the slider up by ``presses`` steps."""
    row = page.locator('.lever[data-key="handoff.sla_hours"]')
    row.locator("input[type=checkbox]").uncheck()
    for _ in range(presses):
        slider(page, "handoff.sla_hours").press("ArrowRight")


def wait_for_answer(page, label: str, pairs: int, timeout_ms: float) -> None:
    page.wait_for_function(
        """([label, pairs]) => document.querySelector('#label').textContent.includes(label)
            && Number(document.querySelector('#headline').dataset.pairs || 0) >= pairs""",
        arg=[label, pairs],
        timeout=timeout_ms,
    )


@pytest.mark.skipif(BROWSER is None, reason="no chromium here (Debian: apt-get install chromium)")
def test_moving_the_sla_slider_shows_a_new_paired_answer_with_an_interval():
    pytest.importorskip("playwright", reason="playwright is not installed (the test extra has it)")
    pytest.importorskip("uvicorn", reason="the live extra is not installed")
    errors: list[str] = []
    with live_server() as url, browser_page() as page:
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("request", lambda r: errors.append(r.url) if not r.url.startswith(url) else None)
        page.on(
            "response", lambda r: errors.append(f"{r.status} {r.url}") if r.status >= 400 else None
        )
        page.goto(url)
        page.wait_for_selector('.lever[data-key="handoff.sla_hours"]')
        slider(page, "simulation.horizon_days").press("Home")  # 30 days: a quick test
        wait_for_answer(page, "Simulated days 30", 2, 120_000)
        move_sla(page, 3)  # 0.5 h, then up to 2 h: each move replaces the run in flight
        wait_for_answer(page, "Response SLA 2 hours", 2, 120_000)
        share = page.locator("#detail tr", has_text="mqls never followed up share").first
        cells = share.locator("td").all_text_contents()
        assert cells[1].endswith("%") and " pp (" in cells[3], cells  # percent; points
        card = page.locator("#headline .card").first
        assert re.search(r"95% interval [+−]?\$", card.locator(".ci").text_content())
        page.wait_for_function("() => document.querySelectorAll('#history li').length >= 3")
        slider(page, "sales.sdr.headcount").press("Home")  # no SDRs, then SDRs qualify: a rule
        wait_for_answer(page, "SDR headcount 0", 1, 120_000)
        assert not errors, errors
        page.locator('.lever[data-key="handoff.qualifier"] select').select_option("sdr")
        problems = page.locator("#problems")
        problems.wait_for(state="visible")
        assert "hire SDRs" in problems.text_content() and "Traceback" not in page.content()
    assert all("400" in e for e in errors), errors  # the refused setting, and only it


def screenshot(path: str) -> None:
    """The README's picture: over_the_wall with a 1-hour SLA against itself, a full year."""
    with live_server() as url, browser_page(1400, 1500) as page:
        page.goto(url)
        page.wait_for_selector('.lever[data-key="handoff.sla_hours"]')
        move_sla(page, 1)
        wait_for_answer(page, "Response SLA 1 hours", 8, 600_000)
        page.wait_for_function("() => document.querySelector('#fig-bookings').complete")
        page.wait_for_timeout(1500)
        page.screenshot(path=path, full_page=False)


if __name__ == "__main__":
    screenshot(sys.argv[1] if len(sys.argv) > 1 else "plots/live.png")
