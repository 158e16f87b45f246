"""Assumptions declared in scenario files: ranges load, validate, merge, explain and vary."""

from __future__ import annotations

import json
import textwrap
import tomllib

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gtmsim import simulate
from gtmsim.scenario import Assumption, ScenarioError, load_scenario, with_values
from gtmsim.scenario.explain import explain
from gtmsim.scenario.file_schema import file_schema
from tests.conftest import BASE, ROOT

DECLARED = ROOT / "tests" / "broken" / "ok_assumptions.toml"


def write(path, text: str):
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def child(tmp_path, body: str, parent=DECLARED):
    return write(tmp_path / "child.toml", f"extends = {json.dumps(str(parent))}\n{body}")


@pytest.fixture(scope="module")
def declared():
    return load_scenario(DECLARED)


def test_the_model_sees_the_value_and_the_scenario_lists_the_ranges(declared):
    assert declared.market.buying_window.return_share == 0.05
    assert declared.market.buying_window.length_days.mean == 120.0
    assert declared.sales.ae.headcount == 40
    assert declared.sales.ae.attempt_hours.value == 0.3  # a bare-number distribution
    expected = {
        "market.buying_window.return_share": (0.05, 0.02, 0.1, "assumption"),
        "market.buying_window.length_days.mean": (120.0, 60.0, 180.0, None),
        "sales.ae.headcount": (40, 36, 44, "hiring plan"),
        # the base market's source is kept: a range table merges key by key
        "sales.ae.attempt_hours": (0.3, 0.2, 0.5, "assumption: half to double"),
        "deals.enablement_share": (0.0, 0.0, 0.1, "assumption"),
    }
    # the rest are the base market's own ranges
    assert {k: declared.assumptions()[k] for k in expected} == expected
    assert (
        declared.assumptions().keys() - expected.keys()
        == load_scenario(BASE).assumptions().keys() - expected.keys()
    )
    headcount = declared.assumptions()["sales.ae.headcount"]
    assert isinstance(headcount, Assumption) and headcount.integer
    assert not declared.assumptions()["market.buying_window.length_days.mean"].integer
    assert "marketing.nurture.engaged_share" in load_scenario(BASE).assumptions()


def test_ranges_change_neither_the_hash_nor_the_simulation(declared, tmp_path):
    plain = child(
        tmp_path,
        'name = "ok_assumptions"\ndescription = "Base market with declared ranges"\n',
        parent=BASE,
    )
    without = load_scenario(plain)
    assert without.content_hash() == declared.content_hash()
    assert without.model_dump() == declared.model_dump()
    short = {"simulation.horizon_days": 21}
    a = simulate(load_scenario(DECLARED, short))
    b = simulate(load_scenario(plain, short))
    assert json.dumps(a.metrics) == json.dumps(b.metrics)  # NaN where both have no deals
    assert a.lead_final_states == b.lead_final_states


def test_a_point_range_is_allowed(tmp_path):
    path = child(tmp_path, "[deals]\nfit_sensitivity = { value = 0.5, low = 0.5, high = 0.5 }\n")
    assert load_scenario(path).assumptions()["deals.fit_sensitivity"] == (0.5, 0.5, 0.5, None)


@pytest.mark.parametrize(
    ("body", "key", "has_range"),
    [
        ("[sales.ae]\nheadcount = 42\n", "sales.ae.headcount", False),  # a fact: range dropped
        ("[sales.ae]\nheadcount.value = 42\n", "sales.ae.headcount", True),  # range kept
        ("[sales.ae.headcount]\nvalue = 42\nhigh = 50\n", "sales.ae.headcount", True),
    ],
)
def test_a_child_keeps_or_replaces_an_inherited_range(tmp_path, body, key, has_range):
    scenario = load_scenario(child(tmp_path, body))
    assert scenario.sales.ae.headcount == 42
    assert (key in scenario.assumptions()) is has_range
    if has_range:
        assert scenario.assumptions()[key].value == 42
        assert scenario.assumptions()[key].source == "hiring plan"  # merged key by key


def test_a_child_moves_one_end_of_an_inherited_range(tmp_path):
    scenario = load_scenario(child(tmp_path, "[deals]\nenablement_share.high = 0.3\n"))
    assert scenario.assumptions()["deals.enablement_share"] == (0.0, 0.0, 0.3, "assumption")


def test_an_override_sets_the_value_and_says_whether_the_range_stays():
    fixed = load_scenario(DECLARED, {"sales.ae.headcount": 38})
    assert fixed.sales.ae.headcount == 38 and "sales.ae.headcount" not in fixed.assumptions()
    moved = load_scenario(DECLARED, {"sales.ae.headcount.value": 38})
    assert moved.assumptions()["sales.ae.headcount"] == (38, 36, 44, "hiring plan")
    declared_here = load_scenario(
        BASE, {"deals.fit_sensitivity": {"value": 0.5, "low": 0.3, "high": 0.7}}
    )
    assert declared_here.assumptions()["deals.fit_sensitivity"] == (0.5, 0.3, 0.7, None)
    with pytest.raises(ScenarioError) as info:
        load_scenario(DECLARED, {"sales.ae.headcount.value": 50})
    assert str(info.value) == (
        "sales.ae.headcount.value = 50: lies outside the declared range [36, 44] "
        "(low <= value <= high)"
    )


def test_a_parent_plain_number_cannot_take_one_end_alone(tmp_path):
    path = child(tmp_path, "[deals]\nfit_sensitivity.high = 0.8\n", parent=BASE)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    (problem,) = info.value.problems
    assert (problem.file, problem.line, problem.key) == (str(path), 3, "deals.fit_sensitivity")
    assert "a range needs value, low and high; missing: value, low" in problem.message


def test_ranges_on_distribution_parameters_are_checked_on_the_whole_distribution(tmp_path):
    path = child(
        tmp_path,
        '[market.channels.paid_search]\nfit = { kind = "uniform", low = 0.1, '
        "high = { value = 0.9, low = 0.5, high = 1.5 } }\n",
    )
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    (problem,) = info.value.problems
    assert problem.key == "market.channels.paid_search.fit.high.high" and problem.line == 3
    assert "values must lie within [0, 1]" in problem.message


def test_explain_shows_ranges_and_sources_and_loads_back(declared, tmp_path):
    text = explain(declared)
    assert 'headcount = { value = 40, low = 36, high = 44, source = "hiring plan" }' in text
    assert "mean = { value = 120.0, low = 60.0, high = 180.0 }" in text
    assert (
        'attempt_hours = { value = 0.3, low = 0.2, high = 0.5, source = "assumption: half to '
        'double" }' in text
    )
    again = load_scenario(write(tmp_path / "explained.toml", text))
    assert again.assumptions() == declared.assumptions()
    assert again.content_hash() == declared.content_hash()


def test_with_values_builds_the_scenario_at_a_point(declared):
    point = {
        "sales.ae.headcount": 37.0,  # a whole number given as a float, as a sampler draws it
        "market.buying_window.length_days.mean": 90.0,
        "sales.ae.attempt_hours": 0.25,
        "handoff.retry_after_hours": 12,  # any number of the scenario, declared or not
    }
    moved = with_values(declared, point)
    assert moved.sales.ae.headcount == 37 and isinstance(moved.sales.ae.headcount, int)
    assert moved.market.buying_window.length_days.mean == 90.0
    assert moved.sales.ae.attempt_hours.value == 0.25
    assert moved.handoff.retry_after_hours == 12.0
    assert moved.assumptions()["sales.ae.headcount"] == (37, 36, 44, "hiring plan")
    assert declared.sales.ae.headcount == 40  # the original is unchanged
    assert with_values(declared, {}).content_hash() == declared.content_hash()


@pytest.mark.parametrize(
    ("values", "fragment"),
    [
        ({"sales.ae.headcount": 50}, "lies outside the range the scenario declares, [36, 44]"),
        ({"sales.ae.headcount": 37.5}, "must be a whole number"),
        ({"sales.ae.headcont": 37}, "names no setting of the scenario (sales.ae.headcont"),
        ({"handoff.route": 1}, "is not a numeric setting"),
        ({"market.buying_window.length_days": 90}, "is a table, not a number"),
        ({"deals.fit_sensitivity": 2.0}, "must be <= 1"),
        ({"deals.fit_sensitivity": "0.5"}, "must be a number"),
    ],
)
def test_with_values_refuses_what_a_file_could_not_say(declared, values, fragment):
    with pytest.raises(ScenarioError) as info:
        with_values(declared, values)
    assert fragment in str(info.value)


@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_with_values_equals_loading_with_value_overrides(data, declared):
    point = {}
    for key, a in declared.assumptions().items():
        if a.integer:
            point[key] = data.draw(st.integers(a.low, a.high))
        else:
            point[key] = data.draw(st.floats(a.low, a.high, allow_nan=False))
    moved = with_values(declared, point)
    loaded = load_scenario(DECLARED, {f"{k}.value": v for k, v in point.items()})
    assert moved.content_hash() == loaded.content_hash()
    assert moved.assumptions() == loaded.assumptions()
    for key, a in moved.assumptions().items():
        assert a.low <= a.value <= a.high and a.value == point[key]


def test_the_file_schema_takes_ranges_where_the_loader_does():
    validator = jsonschema.Draft202012Validator(file_schema())
    with open(DECLARED, "rb") as file:
        assert list(validator.iter_errors(tomllib.load(file))) == []
    for bad in (
        {"deals": {"enablement_share": {"value": 0.05, "lo": 0.0, "high": 0.1}}},
        {"deals": {"enablement_share": {"value": 0.05, "low": 0.0}}},
        {"deals": {"fit_sensitivity": {"value": 0.5, "low": 0.2, "high": 1.5}}},
        {"handoff": {"route": {"value": "pooled", "low": "pooled", "high": "segment"}}},
        {"market": {"arrivals": {"weekday_weights": [{"value": 1, "low": 0, "high": 2}]}}},
    ):
        assert list(validator.iter_errors(bad)), bad
