"""Figures: each plot function on a small ensemble returns a Figure with the right titles,
labels and number of series; plots never touch global matplotlib state."""

from __future__ import annotations

from dataclasses import replace

import matplotlib
import numpy as np
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure

import gtmsim
from gtmsim import plots
from gtmsim.experiment.compare import BRIDGE_STEPS
from gtmsim.experiment.run import ReplicationStore
from gtmsim.experiment.sweep import SweepResult
from gtmsim.plots.animate import funnel_animation, read_event_log, save_animation
from gtmsim.plots.dynamics import WEEKS_PER_QUARTER
from gtmsim.plots.flow import lead_flows
from gtmsim.plots.style import DESIGN_ORDER, design_colours
from gtmsim.results.table import Table
from tests.conftest import BASE, ROOT

FAST = ROOT / "scenarios" / "examples" / "fast_follow_up.toml"
SHORT = {"simulation.horizon_days": 60}


@pytest.fixture(scope="session")
def ensemble(small_pair) -> gtmsim.Ensemble:
    return small_pair  # base and fast_follow_up, 60 days, 2 replications (tests/conftest.py)


@pytest.fixture(scope="session")
def spiral(ensemble) -> gtmsim.Ensemble:
    """The ensemble with made-up weekly series of two quarters: a spiral in the first design."""
    weeks = 2 * WEEKS_PER_QUARTER + 3
    t = np.linspace(0, 1, weeks)
    down = np.array([1.0, 0.0])[:, None, None]  # design 0 spirals, design 1 does not
    ones = np.ones((2, 2, weeks))

    def series(start, slope):
        return ones * (start + slope * down * t)

    weekly = {
        "mql_threshold": series(0.5, -0.2),
        "mqls": series(400, 300),
        "deals_won_inbound": series(8, -5),
        "trust_ae_mean": series(0.6, -0.4),
        "trust_sdr_mean": series(0.55, -0.35),
        "ae_prospecting_share": series(0.2, 0.35),
        "marketing_budget_usd_per_week": series(80000, -40000),
        "bookings_usd": series(300000, -150000),
    }
    return replace(ensemble, weekly=weekly)


def title(fig: Figure) -> str:
    return fig.get_suptitle()


def assert_names_scenarios(fig: Figure, names=("base", "fast_follow_up"), n: int = 2) -> None:
    text = title(fig)
    for name in names:
        assert name in text
    assert f"{n} paired replications" in text


def test_ensemble_keeps_small_arrays_and_saves_them(ensemble, tmp_path):
    d = ensemble.details
    assert d["transitions"].shape[:2] == (2, 2)
    assert d["ae_quota_attainment"].shape[:2] == (2, 2)
    # every lead created is one row of "new" moves
    created = d["transitions"][..., -1, :].sum(axis=-1)
    assert np.allclose(created, ensemble.metric("leads_created"))
    # the histogram counts every first attempt
    assert np.allclose(d["first_response_counts"].sum(axis=-1), ensemble.metric("mqls_worked"))
    loaded = gtmsim.Ensemble.load(ensemble.save(tmp_path / "run"))
    for k, v in d.items():
        np.testing.assert_array_equal(loaded.details[k], v)


def test_resumed_replications_keep_their_small_arrays(tmp_path):
    scenario = gtmsim.load_scenario(BASE, {"simulation.horizon_days": 14})
    first = gtmsim.run_experiment(scenario, 1, executor="serial", out=tmp_path)
    store = ReplicationStore(tmp_path)
    cached = store.get(scenario.content_hash(), 0)
    assert cached is not None and set(cached.details) == set(first.details)
    again = gtmsim.run_experiment(scenario, 1, executor="serial", out=tmp_path)
    np.testing.assert_array_equal(again.details["transitions"], first.details["transitions"])


def test_colours_are_one_per_design_and_keyed_by_name():
    names = ["baseline", "my design", "other"]
    colours = design_colours(names)
    assert list(colours) == names and len(set(colours.values())) == 3
    assert design_colours(names[::-1]) == colours  # the order given does not matter
    assert len(set(design_colours([f"d{i}" for i in range(9)]).values())) == 9
    assert set(design_colours([f"d{i}" for i in range(9)]).values()) == set(DESIGN_ORDER)


def test_plots_leave_global_matplotlib_state_alone(ensemble):
    before = dict(matplotlib.rcParams)
    plots.funnel(ensemble)
    assert dict(matplotlib.rcParams) == before


def test_funnel(ensemble):
    fig = plots.funnel(ensemble)
    assert isinstance(fig, Figure)
    assert_names_scenarios(fig)
    top, bottom = fig.axes
    assert len(top.containers) == 2 and len(bottom.containers) == 2
    assert [t.get_text() for t in top.get_xticklabels()][0] == "inquiries"
    assert "log scale" in top.get_ylabel()
    assert bottom.get_ylabel() == "conversion"


def test_cumulative_bookings(ensemble):
    fig = plots.cumulative_bookings(ensemble)
    assert_names_scenarios(fig)
    (ax,) = fig.axes
    assert len(ax.get_lines()) == 2
    assert len([c for c in ax.collections if isinstance(c, PolyCollection)]) == 2
    assert "90%" in title(fig)
    assert ax.get_xlabel() == "week of the run"


def test_forest(ensemble):
    comparison = gtmsim.compare(ensemble, "base", ["deals_won", "mqls", "bookings"])
    fig = plots.forest(ensemble, "base", comparison)
    assert_names_scenarios(fig)
    (ax,) = fig.axes
    assert "Percent change versus base" in title(fig)
    # bookings first, whatever the table's order; one value per metric for one design
    assert [t.get_text() for t in ax.get_yticklabels()] == ["bookings", "deals won", "mqls"]
    for r in comparison.rows():
        assert fig.numbers[(f"change: {r['metric']}", r["design"])] == r["relative_change"]
    assert "percent change" in ax.get_xlabel()


def test_forest_axis_is_not_set_by_a_huge_change(ensemble):
    """A metric that triples is clipped at +100%; bookings' interval stays readable."""
    comparison = gtmsim.compare(ensemble, "base", ["bookings", "mqls"])
    cols = comparison.columns
    i = cols["metric"].index("mqls")
    for k in ("difference", "ci_low", "ci_high"):
        cols[k][i] = 2.0 * cols["baseline_mean"][i] + (cols[k][i] - cols["difference"][i])
    fig = plots.forest(ensemble, "base", Table(cols))
    (ax,) = fig.axes
    assert ax.get_xlim()[1] <= 1.0
    texts = [t.get_text() for t in ax.texts]
    assert "+200%" in texts  # the clipped change is printed at the edge


def test_revenue_bridge(ensemble):
    fig = plots.revenue_bridge(ensemble, "base", "fast_follow_up")
    assert "base → fast_follow_up" in title(fig)
    (ax,) = fig.axes
    steps = sum(len(chain) for chain in BRIDGE_STEPS.values())
    assert len(ax.patches) == steps + 2  # start, steps of both chains, end
    assert fig.numbers[("bookings", "base")] == pytest.approx(ensemble.metric("bookings")[0].mean())
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels[0].startswith("base") and labels[-1].startswith("fast_follow_up")


def test_sankey_shows_the_black_hole_and_recycling(ensemble):
    fig = plots.sankey(ensemble, "base")
    assert_names_scenarios(fig, names=("base",))
    assert len(fig.axes) == 4
    texts = " ".join(t.get_text() for ax in fig.axes for t in ax.texts)
    assert "black hole" in texts and "accepted" in texts
    assert all(ax.patches for ax in fig.axes)


def test_lead_flows_conserve_leads(ensemble):
    flows = lead_flows(np.nanmean(ensemble.details["transitions"][0], axis=0))
    mql_out = (
        "black_hole",
        "unreached",
        "rejected",
        "recycled",
        "accepted_inbound",
        "in_follow_up",
    )
    assert sum(flows[k] for k in mql_out) == pytest.approx(flows["mqls"])
    assert flows["inquiries"] == pytest.approx(np.nanmean(ensemble.metric("inquiries")[0]))
    # discovery: everything accepted (handed over, self-sourced or back by itself) is accounted for
    discovery = flows["opportunities"] + flows["lost_at_discovery"] + flows["accepted_open"]
    assert flows["accepted"] == pytest.approx(discovery)
    assert flows["returned"] == pytest.approx(np.nanmean(ensemble.metric("buyers_returned")[0]))
    recycle = gtmsim.load_scenario(ROOT / "scenarios/examples/recycle_rejected.toml", SHORT)
    e = gtmsim.run_experiment(recycle, 1, executor="serial")
    assert lead_flows(e.details["transitions"][0, 0])["recycled"] > 0


def test_speed_to_lead(ensemble):
    fig = plots.speed_to_lead(ensemble)
    assert_names_scenarios(fig)
    cdf, contact, qualify = fig.axes
    assert len(cdf.get_lines()) == 2
    assert len([c for c in contact.containers if hasattr(c, "patches")]) == 2
    assert qualify.get_title() == "Sales accepts the lead"
    assert [t.get_text() for t in qualify.get_xticklabels()][0] == "<5m"


def test_speed_to_lead_bars_have_the_tables_interval_inside_0_and_1(ensemble):
    from matplotlib.container import ErrorbarContainer

    from gtmsim.results.recorder import RESPONSE_BIN_LABELS
    from gtmsim.results.summary import mean_interval

    fig = plots.speed_to_lead(ensemble)
    checked = 0
    for ax, prefix in zip(fig.axes[1:], ("first_contact_rate", "qualify_rate"), strict=True):
        bars = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
        assert len(bars) == len(ensemble.designs)
        for d, bar in enumerate(bars):
            segments = bar.lines[2][0].get_segments()
            for b, segment in zip(RESPONSE_BIN_LABELS, segments, strict=True):
                mean, low, high = mean_interval(ensemble.metric(f"{prefix}.{b}")[d], 0.95, "share")
                if np.isfinite(low):
                    assert np.allclose(segment[:, 1], [low, high]), (prefix, b, d)
                    assert 0 <= low <= high <= 1
                    checked += 1
    assert checked


def test_quota_attainment(ensemble):
    fig = plots.quota_attainment(ensemble)
    assert_names_scenarios(fig)
    (ax,) = fig.axes
    assert len(ax.collections) >= 4  # a violin and the dots per design
    assert "miss quota" in ax.get_xticklabels()[0].get_text()


def test_plots_say_what_is_missing_instead_of_failing(ensemble):
    bare = replace(ensemble, details={})
    for fig in (plots.quota_attainment(bare), plots.sankey(bare), plots.speed_to_lead(bare)):
        assert "rerun" in " ".join(
            t.get_text().replace("\n", " ") for ax in fig.axes for t in ax.texts
        )


def test_death_spiral_by_quarter(spiral):
    fig = plots.death_spiral(spiral)
    assert "death spiral" in title(fig)
    assert len(fig.axes) == 6
    assert [ax.get_title() for ax in fig.axes][0].startswith("MQL threshold")
    for ax in fig.axes[3:]:  # the bottom row carries the shared quarter axis
        assert [t.get_text() for t in ax.get_xticklabels()] == ["Q1", "Q2"]
    trust = fig.axes[3]
    assert len(trust.get_lines()) == 4  # AEs and SDRs of two designs
    assert all(len(ax.get_lines()) == 2 for i, ax in enumerate(fig.axes) if i != 3)
    threshold = fig.axes[0].get_lines()[0].get_ydata()
    assert threshold[1] < threshold[0]  # the spiralling design lowers its bar


def test_death_spiral_on_a_short_run_says_so(ensemble):
    fig = plots.death_spiral(ensemble)
    texts = " ".join(t.get_text().replace("\n", " ") for ax in fig.axes for t in ax.texts)
    assert "shorter than one quarter" in texts


@pytest.fixture(scope="session")
def swept() -> SweepResult:
    scenario = gtmsim.load_scenario(BASE, {"simulation.horizon_days": 30})
    vary = {"handoff.sla_hours": (1.0, 24.0, 2), "sales.sdr.headcount": (8, 12, 2)}
    return gtmsim.sweep(scenario, vary, replications=1, executor="serial")


def test_sweep_heatmap(swept):
    fig = plots.sweep_heatmap(swept, "deals_won")
    ax = fig.axes[0]
    assert ax.get_xlabel() == "handoff.sla_hours" and ax.get_ylabel() == "sales.sdr.headcount"
    assert len(ax.images) == 1
    assert len(ax.texts) == 4  # the mean in every cell
    assert "4 points" in title(fig) and "1 paired replication each" in title(fig)


def test_sweep_of_one_setting_is_a_line(swept):
    one = SweepResult(
        [{"handoff.sla_hours": p["handoff.sla_hours"]} for p in swept.points], swept.ensemble
    )
    fig = plots.sweep_heatmap(one, "bookings")
    assert len(fig.axes[0].get_lines()) == 1


def test_sweep_of_three_settings_is_refused(swept):
    three = SweepResult([{**p, "x": 1} for p in swept.points], swept.ensemble)
    with pytest.raises(ValueError, match="one or two"):
        plots.sweep_heatmap(three)


def test_sobol_indices():
    table = Table(
        {
            "input": ["a.b", "c.d"],
            "first_order": [0.6, 0.1],
            "total_order": [0.7, 0.3],
            "first_order_low": [0.4, -0.1],
            "first_order_high": [0.8, 0.3],
            "total_order_low": [0.5, 0.1],
            "total_order_high": [0.9, 0.5],
        }
    )
    fig = plots.sobol_indices(table, "bookings", scenario="base", samples=64, replications=2)
    (ax,) = fig.axes
    assert "What drives bookings" in title(fig) and "64 Sobol samples" in title(fig)
    top = max(ax.get_yticklabels(), key=lambda t: t.get_position()[1])
    assert top.get_text() == "a.b"  # the largest total effect on top
    assert len(ax.patches) == 4


def test_animation_of_two_designs(tmp_path):
    journeys = {}
    for path in (BASE, FAST):
        scenario = gtmsim.load_scenario(path, {"simulation.horizon_days": 14})
        log = tmp_path / f"{scenario.name}.csv"
        result = gtmsim.simulate(scenario, 0, event_log=log)
        journeys[scenario.name] = read_event_log(log, 14, result.weekly["bookings_usd"])
    animation = funnel_animation(journeys, frames=3, sample=300, subtitle="test")
    fig = animation._fig
    assert [ax.get_title() for ax in fig.axes] == ["base", "fast_follow_up"]
    out = save_animation(animation, tmp_path / "funnel.gif", fps=5)
    assert out.read_bytes()[:4] == b"GIF8"
    assert "day 14 of 14" in fig.get_suptitle()
    with pytest.raises(ValueError, match=".gif or .mp4"):
        save_animation(animation, tmp_path / "x.avi")
