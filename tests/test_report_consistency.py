"""Every number a figure of the report prints is the table's: the metric of the same name
(its mean over replications), the ratio of two of the table's metrics, a relative change
of the comparison table, or a row of the revenue bridge `gtmsim compare` prints."""

from __future__ import annotations

import re

import numpy as np
import pytest

import gtmsim
from gtmsim.experiment.compare import revenue_bridge
from gtmsim.report import design_figures, report_html
from gtmsim.report.html import COMPARE_METRICS, REPORT_METRICS
from gtmsim.scenario.shipped import shipped_by_name

DESIGNS = ("over_the_wall", "integrated")
BASE = DESIGNS[0]


@pytest.fixture(scope="module")
def report():
    scenarios = [
        gtmsim.load_scenario(shipped_by_name(d), {"simulation.horizon_days": 120}) for d in DESIGNS
    ]
    ensemble = gtmsim.run_experiment(scenarios, 2, executor="serial")
    figures = design_figures(ensemble, BASE)
    return ensemble, figures, report_html(ensemble, figures, BASE)


def table_rows(html: str) -> set[str]:
    """The metrics the report's tables show, read from the page."""
    return set(re.findall(r'<td class="key"[^>]*>([^<]+)</td>', html))


def test_every_figure_says_what_it_prints(report):
    _, figures, _ = report
    for shown in figures:
        assert hasattr(shown.figure, "numbers"), shown.key
    printed = {shown.key for shown in figures if shown.figure.numbers}
    assert {"funnel", "bookings", "forest", "bridge_integrated", "quota"} <= printed
    assert {f"sankey_{d}" for d in DESIGNS} <= printed


def test_every_figure_number_is_the_tables(report):
    ensemble, figures, html = report
    shown_in_table = table_rows(html)
    assert set(REPORT_METRICS) <= shown_in_table
    means = {(r["metric"], r["design"]): r["mean"] for r in ensemble.summary(REPORT_METRICS).rows()}
    changes = {
        (r["metric"], r["design"]): r["relative_change"]
        for r in gtmsim.compare(ensemble, BASE, list(COMPARE_METRICS)).rows()
    }
    bridges = {
        d: {r["step"]: r["contribution_usd"] for r in revenue_bridge(ensemble, BASE, d).rows()}
        for d in DESIGNS[1:]
    }
    checked = 0
    for shown in figures:
        for (quantity, design), value in shown.figure.numbers.items():
            where = f"{shown.key}: {quantity} of {design}"
            if quantity.startswith("change: "):
                expected = changes[(quantity.removeprefix("change: "), design)]
            elif quantity.startswith("contribution: "):
                expected = bridges[design][quantity.removeprefix("contribution: ")]
            else:
                names = quantity.split(" / ")
                missing = [n for n in names if n not in shown_in_table]
                assert not missing, f"{where}: {missing} not in the report's table"
                expected = means[(names[0], design)]
                if len(names) == 2:
                    expected /= means[(names[1], design)]
            assert value == pytest.approx(expected, rel=1e-9, nan_ok=True), where
            checked += 1
    assert checked > 60


def test_the_numbers_the_issue_found_disagreeing_now_agree(report):
    """MQL -> accepted, accepted in the Sankey, deals won, the share of AEs missing quota."""
    ensemble, figures, _ = report
    fig = {shown.key: shown.figure for shown in figures}
    d = ensemble.design_index(BASE)

    def mean(name):
        return float(np.nanmean(ensemble.metric(name)[d]))

    funnel = fig["funnel"].numbers
    assert funnel[("mqls_accepted / mqls", BASE)] == pytest.approx(
        mean("mqls_accepted") / mean("mqls")
    )
    bridge = fig["bridge_integrated"].numbers
    assert bridge[("mqls_accepted / mqls", BASE)] == pytest.approx(
        funnel[("mqls_accepted / mqls", BASE)]
    )
    sankey = fig[f"sankey_{BASE}"].numbers
    assert sankey[("mqls_accepted", BASE)] == pytest.approx(mean("mqls_accepted"))
    assert sankey[("mqls_accepted", BASE)] + sankey[("buyers_returned", BASE)] == pytest.approx(
        mean("accepted")
    )
    assert sankey[("deals_won", BASE)] == pytest.approx(mean("deals_won"))
    assert funnel[("deals_won_inbound", BASE)] == pytest.approx(mean("deals_won_inbound"))
    quota = fig["quota"].numbers
    assert quota[("ae_quota_missed_share", BASE)] == pytest.approx(mean("ae_quota_missed_share"))
