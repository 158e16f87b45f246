"""Tables, runs and ensembles as people read them: in a terminal, with print, in Jupyter."""

from __future__ import annotations

import math
import re

import pytest

import gtmsim
from gtmsim.cli import main
from gtmsim.results.metrics import METRICS, is_share, unit
from gtmsim.results.table import TEXT_WIDTH, Table, format_number
from tests.conftest import BASE

SHORT = {"simulation.horizon_days": 14}


def test_shares_and_rates_are_known_as_shares():
    shares = {m for m in METRICS if is_share(m)}
    assert {"win_rate", "mqls_never_followed_up_share", "qualify_rate.<1h"} <= shares
    assert not shares & {"bookings", "deals_won", "first_response_hours_median", "mqls"}
    assert is_share("win_rate.segment.smb") and not is_share("deals_won.channel.referral")


def test_a_metric_is_shown_as_a_percent_exactly_when_its_range_says_so():
    from gtmsim.results.metrics import PERCENT_RANGES, metric_range

    breakdowns = [f"{m}.{by}.x" for m in METRICS for by in ("channel", "segment")]
    for name in [*METRICS, *breakdowns]:
        assert is_share(name) == (metric_range(name) in PERCENT_RANGES), name
    # the names that once disagreed: each prints as what it is
    assert format_number(0.31, "ae_prospecting_share_non_admin") == "31.0%"
    assert format_number(0.62, "trust_ae_mean") == "62.0%"
    assert format_number(1.25, "ae_quota_attainment_median") == "125%"
    assert format_number(-0.042, "bookings_growth_yoy") == "-4.2%"
    assert format_number(0.021, "mql_to_customer_rate") == "2.1%"
    assert format_number(0.75, "gtm_cost_per_bookings") == "0.75"
    assert format_number(12.5, "first_response_hours_median") == "12.5"


def test_money_is_known_by_its_meaning_not_by_its_name():
    assert {m for m in METRICS if unit(m) == "USD"} >= {"bookings", "marketing_cost_usd"}
    assert unit("bookings.channel.referral") == "USD"
    assert unit("marketing_spend_per_bookings") == unit("win_rate") == unit("mqls") == ""


def test_format_number_is_what_the_tables_show():
    assert format_number(0.234, "win_rate") == "23.4%"
    assert format_number(0.05, "win_rate", difference=True) == "+5 pp"
    assert format_number(0.491, relative=True) == "+49.1%"
    assert format_number(0.234, "marketing_spend_per_bookings") == "0.234"
    assert format_number(math.nan, "win_rate") == "-"


def test_text_shows_shares_and_relative_changes_as_percents():
    table = Table(
        {
            "metric": ["bookings", "mqls_never_followed_up_share", "win_rate"],
            "design": ["a", "b", "c"],
            "difference": [7_501_700.0, -0.5186, 0.0115],
            "ci_low": [6_655_271.0, -0.52, -0.199],
            "ci_high": [8_348_129.0, -0.51, 0.222],
            "relative_change": [0.491, -0.991, math.nan],
            "p_improves": [1.0, 0.6, math.nan],
        }
    )
    rows = [line.split() for line in table.to_text().splitlines()]
    assert rows[1] == ["bookings", "a", "7,501,700", "6,655,271", "8,348,129", "+49.1%", "100%"]
    assert rows[2][2:] == ["-51.9", "pp", "-52.0", "pp", "-51.0", "pp", "-99.1%", "60%"]
    assert rows[3][2:] == ["+1.15", "pp", "-19.9", "pp", "+22.2", "pp", "-", "-"]
    means = Table({"metric": ["ae_selling_share", "mqls"], "mean": [0.00152, 1234.0]})
    assert means.to_text().splitlines()[1:] == [
        "ae_selling_share  0.152%",
        "mqls               1,234",
    ]
    assert Table({"x": [0.5]}).to_text() == "  x\n0.5"  # no metric column: as it was


def test_a_table_can_say_how_a_column_is_shown_where_its_name_does_not():
    table = Table(
        {
            "step": ["mqls / inquiries", "inquiries"],
            "baseline": [0.254, 1234.0],
            "q05": [0.1, -0.02],
        },
        shown_as={"baseline": ["percent", "number"], "q05": "points"},
    )
    assert [line.split() for line in table.to_text().splitlines()[1:]] == [
        ["mqls", "/", "inquiries", "25.4%", "+10.0", "pp"],
        ["inquiries", "1,234", "-2", "pp"],
    ]
    assert table["baseline"] == [0.254, 1234.0] and "0.254" in table.to_csv()


def test_long_text_wraps_to_fit_and_print_fits_120_columns():
    words = "a meaning that goes on " * 12
    table = Table({"metric": ["mqls", "bookings"], "mean": [1.0, 2.0], "meaning": [words, "short"]})
    assert len(table.to_text().splitlines()[1]) > TEXT_WIDTH
    lines = str(table).splitlines()
    assert max(map(len, lines)) <= TEXT_WIDTH and len(lines) > 3
    assert " ".join(" ".join(lines[1:-1]).split()[2:]) == words.strip()
    assert lines[-1].split() == ["bookings", "2.00", "short"]


def test_html_tables_escape_and_align():
    table = Table({"metric": ["win_rate", "<b>"], "mean": [0.25, 3.0]})
    html = table._repr_html_()
    assert html == table.to_html() and html.startswith("<table>")
    assert "&lt;b&gt;" in html and "<b>" not in html
    assert '<td style="text-align: right">25.0%</td>' in html
    assert html.count("<tr>") == 3


@pytest.fixture(scope="module")
def ensemble():
    designs = {
        "status quo": gtmsim.load_scenario(BASE, SHORT),
        "1-hour SLA": gtmsim.load_scenario(BASE, {**SHORT, "handoff.sla_hours": 1}),
    }
    return gtmsim.run_experiment(designs, 2, executor="serial")


def test_an_ensemble_shows_its_headline_as_a_table(ensemble):
    text = str(ensemble)
    first, header, *rows = text.splitlines()
    assert first.startswith("Ensemble: 2 design(s) (status quo, 1-hour SLA), 2 paired")
    assert header.split() == ["metric", "design", "mean", "ci_low", "ci_high"]
    assert re.match(r"mqls_never_followed_up_share +status quo +[\d.]+%", rows[4])
    assert max(map(len, text.splitlines())) <= TEXT_WIDTH and "array(" not in text
    html = ensemble._repr_html_()
    assert html.startswith("<p>Ensemble: 2 design(s)") and "<table>" in html
    assert "1-hour SLA" in html and "first_response_hours_median" in html


def test_a_run_shows_its_headline_with_meanings():
    result = gtmsim.simulate(gtmsim.load_scenario(BASE, SHORT), 0)
    text = str(result)
    assert text.startswith("RunResult: base, replication 0 (seed ")
    assert "14 days" in text.splitlines()[0]
    assert re.search(r"^win_rate +[\d.]+% +opportunities won", text, re.M)
    assert max(map(len, text.splitlines())) <= TEXT_WIDTH
    html = result._repr_html_()
    assert "<table>" in html and "median delay from MQL to first attempt" in html


def test_command_tables_fit_120_columns_with_percents(capsys):
    args = ["--set", "simulation.horizon_days=14", "-n", "2", "--executor", "serial"]
    assert main(["run", str(BASE), *args]) == 0
    run = capsys.readouterr().out
    assert re.search(r"^mqls_never_followed_up_share +[\d.]+% +[-\d.]+% +[\d.]+% +share", run, re.M)
    assert main(["compare", str(BASE), "fast_follow_up", *args]) == 0
    compare = capsys.readouterr().out
    assert re.search(r"^accepted +fast_follow_up .* [-+]?[\d.]+% +higher +\d+%$", compare, re.M)
    assert re.search(r"^first_response_hours_median +fast_follow_up .* lower +\d+%$", compare, re.M)
    for out in (run, compare):
        assert max(map(len, out.splitlines())) <= TEXT_WIDTH


def test_a_table_refuses_a_shown_as_that_does_not_fit_it():
    columns = {"step": ["a", "b"], "baseline": [0.1, 2.0]}
    for shown, says in (
        ({"design": "percent"}, "not a column"),
        ({"baseline": ["percent"]}, "1 kinds for 2 rows"),
        ({"baseline": "pct"}, "['pct']"),
    ):
        with pytest.raises(ValueError, match=re.escape(says)):
            Table(columns, shown_as=shown)
    assert Table(columns, shown_as={"baseline": "percent"}) == Table(columns)  # display only
