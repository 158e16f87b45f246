"""Bad input to sweep grids and calibration targets: a clear message, never a traceback."""

from __future__ import annotations

import warnings

import pytest

from gtmsim.calibration import DEFAULT_TARGETS, load_targets
from gtmsim.cli import main
from gtmsim.cli.common import parse_vary
from gtmsim.experiment.sweep import RoundedLevels, design_points
from tests.conftest import ROOT

GOOD = (ROOT / DEFAULT_TARGETS).read_text()


def test_word_lists_need_no_quotes_and_numbers_stay_numbers():
    vary = parse_vary(["handoff.route=round_robin,pooled", "sales.sdr.headcount=8,12"], steps=True)
    assert vary == {"handoff.route": ["round_robin", "pooled"], "sales.sdr.headcount": [8, 12]}
    assert parse_vary(['handoff.route="pooled"'], steps=True) == {"handoff.route": ["pooled"]}


def test_an_integer_grid_on_whole_numbers_does_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert [p["k"] for p in design_points({"k": (1, 10, 4)})] == [1, 4, 7, 10]


def test_an_integer_grid_that_needs_rounding_warns_with_steps_that_would_not():
    with pytest.warns(RoundedLevels, match="Steps that give whole numbers: 2, 4, 10"):
        design_points({"sales.ae.headcount": (1, 10, 3)})


BAD_TARGETS = [
    ("x = 1\n", "horizon_days: expected a number of days; it is missing"),
    ("horizon_days = 10\nreplications = 0\n", "replications: expected a whole number >= 1"),
    ("horizon_days = 10\nreplications = 2\n", "[designs]: expected a table"),
    ('horizon_days = 10\nreplications = 2\n[designs]\na = "a.toml"\n', "[[rows]]: expected"),
    (
        'horizon_days = 10\nreplications = 2\n[designs]\na = "a.toml"\n[[rows]]\nkind = "value"\n'
        'section = "A"\nlabel = "x"\ndesign = "b"\nmetric = "m"\n',
        "rows[0].design: expected a design of [designs]; got 'b'",
    ),
    (
        'horizon_days = 10\nreplications = 2\n[designs]\na = "a.toml"\n[[rows]]\nkind = "ratio"\n'
        'section = "A"\nlabel = "x"\ndesign = "a"\nmetric = "m"\n',
        "rows[0].over: expected a text (a ratio row needs it); it is missing",
    ),
    ("rows = [", "not a TOML file"),
]


@pytest.mark.parametrize(("text", "message"), BAD_TARGETS)
def test_calibration_targets_of_the_wrong_shape_are_named(tmp_path, capsys, text, message):
    path = tmp_path / "targets.toml"
    path.write_text(text)
    assert main(["calibration", "--targets", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}: " in err and message in err
    assert "internal error" not in err and "Traceback" not in err


def test_the_shipped_targets_have_the_right_shape():
    assert load_targets(ROOT / DEFAULT_TARGETS).rows
    assert GOOD.count("[[rows]]") == len(load_targets(ROOT / DEFAULT_TARGETS).rows)
