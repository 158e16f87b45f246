"""The scenario loader: extends, deep merge, overrides, and errors a person can act on."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from pydantic import ValidationError

from gtmsim.scenario import Problem, Scenario, ScenarioError, load_scenario
from gtmsim.scenario.dists import KINDS
from gtmsim.scenario.errors import problems_from_validation_error
from gtmsim.scenario.loader import resolve_mapping


def write(path, text: str):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def load_error(source, overrides=None, **kwargs) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        load_scenario(source, overrides, **kwargs)
    return info.value


def only(err: ScenarioError) -> Problem:
    assert len(err.problems) == 1, str(err)
    return err.problems[0]


ROOT = """
    name = "root"
    description = "the root"

    [market.arrivals]
    weekday_weights = [1, 1, 1, 1, 1, 0, 0]

    [market.channels.paid_search]
    spend_usd_per_week = 1000
    max_leads_per_week = 40

    [deals.stages.discovery]
    pass_probability = 0.5
    [deals.stages.demo]
    pass_probability = 0.6
    [deals.stages.close]
    pass_probability = 0.3
"""


def test_extends_chain_deep_merges_and_keeps_parent_key_order(tmp_path):
    write(tmp_path / "root.toml", ROOT)
    write(
        tmp_path / "mid.toml",
        """
        extends = "root.toml"
        name = "mid"

        [market.arrivals]
        weekday_weights = [1, 1, 1, 1, 1, 1, 1]

        [deals.stages.demo]
        buyer_delay_days = 7
        """,
    )
    write(
        tmp_path / "child.toml",
        """
        extends = "mid.toml"

        [market.channels.paid_search]
        spend_usd_per_week = 2500

        [deals.stages.legal]
        pass_probability = 0.9
        [deals.stages.discovery]
        pass_probability = 0.7
        """,
    )
    s = load_scenario(tmp_path / "child.toml")
    assert s.name == "mid" and s.description == "the root"
    assert s.market.channels["paid_search"].spend_usd_per_week == 2500
    assert s.market.channels["paid_search"].max_leads_per_week == 40
    assert s.market.arrivals.weekday_weights == [1.0] * 7  # lists are replaced, not merged
    assert list(s.deals.stages) == ["discovery", "demo", "close", "legal"]
    assert s.deals.stages["discovery"].pass_probability == 0.7
    assert s.deals.stages["demo"].pass_probability == 0.6
    assert s.deals.stages["demo"].buyer_delay_days.value == 7
    assert "extends" not in resolve_mapping(tmp_path / "child.toml")


def test_extends_is_relative_to_the_file_that_says_it_not_the_cwd(tmp_path, monkeypatch):
    write(tmp_path / "shared" / "root.toml", 'name = "right root"\n')
    write(tmp_path / "scen" / "base" / "parent.toml", 'extends = "../../shared/root.toml"\n')
    write(tmp_path / "scen" / "child.toml", 'extends = "base/parent.toml"\n')
    cwd = tmp_path / "elsewhere"
    write(cwd / "base" / "parent.toml", 'name = "wrong parent"\n')  # a cwd-relative decoy
    monkeypatch.chdir(cwd)
    assert load_scenario(str(tmp_path / "scen" / "child.toml")).name == "right root"
    monkeypatch.chdir(tmp_path)
    assert load_scenario("scen/child.toml").name == "right root"


def test_overrides_dotted_create_tables_merge_dicts_and_accept_none(tmp_path):
    path = write(
        tmp_path / "s.toml",
        """
        [handoff]
        sla_hours = 4

        [sales.ae]
        headcount = 5
        work_hours = {days = ["mon", "tue"], start_hour = 8}
        """,
    )
    s = load_scenario(
        path,
        {
            "sales.ae.headcount": 30,
            "handoff.sla_hours": "none",
            "market.channels.events.organic_leads_per_week": 12,
            "sales.ae.work_hours": {"end_hour": 16},
        },
    )
    assert s.sales.ae.headcount == 30
    assert s.handoff.sla_hours is None
    assert s.market.channels["events"].organic_leads_per_week == 12
    assert (s.sales.ae.work_hours.days, s.sales.ae.work_hours.start_hour) == (["mon", "tue"], 8)
    assert s.sales.ae.work_hours.end_hour == 16


def test_override_through_a_value_is_an_error(tmp_path):
    path = write(tmp_path / "s.toml", "[sales.ae]\nheadcount = 5\n")
    p = only(load_error(path, {"sales.ae.headcount.extra": 1}))
    assert p.key == "sales.ae.headcount.extra"
    assert "sales.ae.headcount" in p.message and "not a table" in p.message


def test_circular_extends_names_the_cycle(tmp_path, monkeypatch):
    write(tmp_path / "a.toml", 'extends = "b.toml"\n')
    write(tmp_path / "b.toml", 'name = "b"\nextends = "a.toml"\n')
    monkeypatch.chdir(tmp_path)
    p = only(load_error("a.toml"))
    assert "a.toml -> b.toml -> a.toml" in p.message
    assert (p.file, p.key, p.line) == ("b.toml", "extends", 2)


def test_missing_extends_file_names_both_files(tmp_path, monkeypatch):
    write(tmp_path / "child.toml", '# a comment\nextends = "parents/gone.toml"\n')
    monkeypatch.chdir(tmp_path)
    p = only(load_error("child.toml"))
    assert (p.file, p.key, p.line) == ("child.toml", "extends", 2)
    assert "parents/gone.toml" in p.message and "no such file" in p.message
    assert only(load_error("nowhere.toml")).file == "nowhere.toml"


def test_invalid_toml_reports_the_line(tmp_path):
    path = write(tmp_path / "bad.toml", 'name = "x"\n\n[sales.ae\nheadcount = 3\n')
    p = only(load_error(path))
    assert p.line == 3
    assert p.message.startswith("not valid TOML")
    assert f"{path}:3: " in str(load_error(path))


@pytest.mark.parametrize(
    ("text", "line", "key", "message"),
    [
        ("[sales.ae]\nheadcount = 4\nadmin_share = 0.1\nheadcount = 5\n", 4, "sales.ae.headcount",
         "set twice, here and on line 2; keep one"),
        # a value over several lines: tomllib points at its end, the key is on its first line
        ("[deals]\nstages = [\n  1,\n]\nstages = [\n  2,\n]\n", 5, "deals.stages",
         "set twice, here and on line 2"),
        ("[handoff]\nsla_hours = 4\n\n[sales]\n[handoff]\nmax_attempts = 2\n", 5, "handoff",
         "the table [handoff] appears twice, here and on line 1"),
        ('name = "x"\nname.first = "y"\n', 2, "name.first", "name is a value (line 1)"),
        ("[sales.ae.x]\nheadcount = 1\n[sales.ae]\nx = 2\n", 4, "sales.ae.x",
         "already a table: [sales.ae.x] on line 1"),
    ],
)  # fmt: skip
def test_a_duplicated_key_is_named_with_both_lines(tmp_path, text, line, key, message):
    path = write(tmp_path / "dup.toml", text)
    p = only(load_error(path))
    assert (p.file, p.line, p.key) == (str(path), line, key)
    assert p.message.startswith("not valid TOML: ") and message in p.message, p.message


def test_all_problems_are_reported_together_with_keys_and_lines(tmp_path):
    path = write(
        tmp_path / "s.toml",
        """
        name = "many problems"

        [handoff]
        route = "pooll"
        max_attempts = 0

        [deals.stages.discovery]
        pass_probability = 1.5
        [deals.stages.close]
        pass_probability = 0.5
        """,
    )
    err = load_error(path)
    found = {p.key: p.line for p in err.problems}
    assert found == {
        "handoff.route": 4,
        "handoff.max_attempts": 5,
        "deals.stages.discovery.pass_probability": 8,
    }
    assert all(p.file == str(path) for p in err.problems)
    assert len(str(err).splitlines()) >= 3


def test_unknown_key_gets_a_did_you_mean_hint(tmp_path):
    path = write(tmp_path / "s.toml", "[market.channels.paid_search]\nspend_usd_per_wek = 5\n")
    p = only(load_error(path))
    assert p.key == "market.channels.paid_search.spend_usd_per_wek"
    assert p.hint == "did you mean 'spend_usd_per_week'?"
    assert p.line == 2
    assert "\n    hint: did you mean 'spend_usd_per_week'?" in str(load_error(path))


def test_out_of_range_message_names_key_path_bound_and_unit(tmp_path):
    path = write(tmp_path / "s.toml", "[market.channels.paid_search]\nspend_usd_per_week = -5\n")
    p = only(load_error(path))
    assert p.value == -5
    assert str(p) == (
        f"{path}:2: market.channels.paid_search.spend_usd_per_week = -5: "
        "must be >= 0 (USD per week)"
    )


def test_wrong_distribution_kind_lists_the_allowed_kinds(tmp_path):
    path = write(tmp_path / "s.toml", '[sales.ae]\nattempt_hours = {kind = "gama", mean = 1}\n')
    p = only(load_error(path))
    assert p.key == "sales.ae.attempt_hours" and p.line == 2
    assert all(kind in p.message for kind in KINDS)
    assert p.hint == "did you mean 'gamma'?"
    missing = only(load_error({"sales": {"ae": {"attempt_hours": {"mean": 1}}}}))
    assert all(kind in missing.message for kind in KINDS)


def test_distribution_parameter_errors_drop_the_kind_from_the_key(tmp_path):
    data = {"sales": {"ae": {"attempt_hours": {"kind": "gamma", "mean": -1, "cv": 0.5}}}}
    p = only(load_error(data))
    assert p.key == "sales.ae.attempt_hours.mean"
    assert p.message == "must be > 0 (hours)"


def test_problem_is_located_in_the_parent_when_the_child_does_not_set_it(tmp_path):
    write(tmp_path / "parent.toml", '[handoff]\nqualifier = "ae"\nretry_after_hours = -1\n')
    write(tmp_path / "child.toml", 'extends = "parent.toml"\n[handoff]\nroute = "nope"\n')
    err = load_error(tmp_path / "child.toml")
    where = {p.key: (p.file, p.line) for p in err.problems}
    assert where["handoff.retry_after_hours"] == (str(tmp_path / "parent.toml"), 3)
    assert where["handoff.route"] == (str(tmp_path / "child.toml"), 3)


def test_a_rule_across_settings_points_at_the_key_it_names(tmp_path):
    write(tmp_path / "parent.toml", "[sales.ae]\nheadcount = 4\n")
    path = write(tmp_path / "s.toml", 'extends = "parent.toml"\n\n[sales.ae]\nheadcount = 0\n')
    p = only(load_error(path))
    assert (p.file, p.line, p.key) == (str(path), 4, "sales.ae.headcount")
    assert str(p) == f"{path}:4: sales.ae.headcount: is 0: someone has to run the deals"


def test_a_child_that_replaces_a_value_is_where_its_problem_is(tmp_path):
    base = Path(__file__).resolve().parent.parent / "scenarios" / "base" / "market.toml"
    header = f'extends = "{base.as_posix()}"\n'
    # the child's distribution replaced the base's whole: its missing cv is the child's problem
    dist = write(
        tmp_path / "dist.toml",
        header + '[deals.stages.demo]\nrep_hours = { kind = "gamma", mean = 3 }\n',
    )
    p = only(load_error(dist))
    assert (p.key, p.file, p.line) == ("deals.stages.demo.rep_hours.cv", str(dist), 3)
    # a rule broken by the child's setting points at the child, not at the base's half of it
    rule = write(tmp_path / "rule.toml", header + "[sales.sdr]\nheadcount = 0\n")
    p = only(load_error(rule))
    assert (p.key, p.file, p.line) == ("handoff.qualifier", str(rule), 3)


def test_every_broken_rule_is_reported_at_once():
    error = load_error(
        {
            "sales": {"sdr": {"headcount": 0}, "ae": {"headcount": 0}},
            "handoff": {"qualifier": "sdr"},
        }
    )
    assert {p.key for p in error.problems} == {"handoff.qualifier", "sales.ae.headcount"}


def test_a_contradiction_is_reported_with_the_wrong_values_around_it(tmp_path):
    # pydantic checks whole-scenario rules only once every value is valid; the
    # loader checks them anyway where they read none of the wrong values
    path = write(
        tmp_path / "s.toml",
        """
        [handoff]
        qualifier = "sdr"
        max_attempts = 0

        [sales.sdr]
        headcount = 0
        admin_share = 3

        [sales.ae]
        headcount = 5
        qualification_hours = { kind = "gamma", mean = 1, cv = 0 }
        """,
    )
    problems = {p.key: p for p in load_error(path).problems}
    assert set(problems) == {
        "handoff.max_attempts",
        "sales.sdr.admin_share",
        "sales.ae.qualification_hours.cv",
        "handoff.qualifier",
    }
    rule = problems["handoff.qualifier"]
    assert (rule.file, rule.line) == (str(path), 2)
    assert 'is "sdr" but sales.sdr.headcount is 0' in rule.message


@pytest.mark.parametrize("headcount", [-1, "five", 2.5])
def test_a_rule_that_reads_a_wrong_value_waits_for_the_fix(headcount):
    # taken out, the wrong headcount would fall back to its default of 0 and the
    # rule would wrongly say "sales.sdr.headcount is 0": it is not checked
    error = load_error(
        {"handoff": {"qualifier": "sdr"}, "sales": {"sdr": {"headcount": headcount}}}
    )
    assert [p.key for p in error.problems] == ["sales.sdr.headcount"], str(error)


def test_rules_reported_by_validation_are_not_repeated():
    error = load_error({"handoff": {"qualifier": "sdr"}, "sales": {"sdr": {"headcount": 0}}})
    assert [p.key for p in error.problems] == ["handoff.qualifier"]


def test_an_optional_setting_mentions_the_word_none():
    p = only(load_error({"handoff": {"sla_hours": "never"}}))
    assert 'or the word "none"' in p.message


def test_a_mapping_source_works_and_extends_uses_base_dir(tmp_path):
    s = load_scenario({"name": "inline", "sales": {"ae": {"headcount": 7}}})
    assert isinstance(s, Scenario) and s.sales.ae.headcount == 7
    write(tmp_path / "root.toml", ROOT)
    s = load_scenario({"extends": "root.toml", "name": "inline"}, base_dir=tmp_path)
    assert (s.name, list(s.deals.stages)) == ("inline", ["discovery", "demo", "close"])
    p = only(load_error({"handoff": {"sla_hours": -1}}))
    assert (p.file, p.line, p.key) == (None, None, "handoff.sla_hours")


def test_messages_are_free_of_pydantic_jargon(tmp_path):
    path = write(
        tmp_path / "s.toml",
        """
        nmae = "typo"
        [simulation]
        horizon_days = "long"
        seed = 1.5
        [market.buying_window]
        start_days = "soon"
        [sales.ae]
        work_hours = {days = ["mon", "someday"]}
        attempt_hours = -3
        [deals.stages.only]
        """,
    )
    err = load_error(path)
    assert {p.key: p.line for p in err.problems}["deals.stages"] == 10  # the first stage table
    text = str(err)
    assert len(text.splitlines()) >= 6
    for jargon in (
        "pydantic",
        "https://",
        "Value error",
        "type=",
        "Input should",
        "Field required",
    ):
        assert jargon not in text


def test_problems_from_validation_error_uses_file_and_source_text():
    text = '[handoff]\nmax_attempts = 99\n[sales.ae]\nheadcount = "many"\n'
    with pytest.raises(ValidationError) as info:
        Scenario.model_validate(
            {"handoff": {"max_attempts": 99}, "sales": {"ae": {"headcount": "many"}}}
        )
    problems = problems_from_validation_error(info.value, file="x.toml", source_text=text)
    assert [(p.file, p.line, p.key) for p in problems] == [
        ("x.toml", 2, "handoff.max_attempts"),
        ("x.toml", 4, "sales.ae.headcount"),
    ]
    assert problems[1].message == "must be a whole number"


def test_a_child_replaces_distributions_and_share_maps_whole(tmp_path):

    base = Path(__file__).resolve().parent.parent / "scenarios" / "base" / "market.toml"
    child = tmp_path / "child.toml"
    child.write_text(
        f'extends = "{base.as_posix()}"\n'
        "[sales.sdr]\n"
        'qualification_hours = { kind = "exponential", mean = 0.5 }\n'
        "[market.channels.paid_search]\n"
        "segment_mix = { smb = 1.0 }\n"
    )
    s = load_scenario(
        child, {"market.segments.smb.deal_size_usd": {"kind": "gamma", "mean": 9000, "cv": 0.5}}
    )
    assert s.sales.sdr.qualification_hours.kind == "exponential"
    assert s.market.channels["paid_search"].segment_mix == {"smb": 1.0}
    assert s.market.segments["smb"].deal_size_usd.kind == "gamma"
    # tables of settings still merge key by key
    assert (
        s.sales.sdr.headcount == 12 and s.market.channels["paid_search"].spend_usd_per_week == 30000
    )
