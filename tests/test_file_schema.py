"""`gtmsim schema`: the JSON Schema an editor checks scenario files with, as a user writes them."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib

import jsonschema
import pytest

from gtmsim.scenario import load_scenario
from gtmsim.scenario.explain import explain
from gtmsim.scenario.file_schema import file_schema
from tests.conftest import ROOT

SHIPPED = sorted((ROOT / "scenarios").rglob("*.toml"))
VALID = SHIPPED + sorted((ROOT / "tests" / "broken").glob("ok_*.toml"))

# Mistakes inside one file that the schema sees without following extends.
REJECTED = [
    "absurd_multiplier",
    "absurd_spend",
    "dist_unknown_kind",
    "hours_per_prospect_zero",
    "misspelled_table_name",
    "negative_spend",
    "new_flag_not_bool",
    "probability_above_one",
    "route_wrong_word",
    "sla_hours_wrong_word",
    "text_for_bool",
    "unknown_top_level_key",
    "wrong_type_string_for_number",
]


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = file_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def read(path) -> dict:
    with open(path, "rb") as file:
        return tomllib.load(file)


def test_every_shipped_file_is_found():
    assert len(SHIPPED) >= 10 and any(p.parent.name == "smb" for p in SHIPPED)


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_valid_file_satisfies_the_schema(validator, path):
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(read(path))]
    assert errors == []


@pytest.mark.parametrize("path", SHIPPED[:3] + SHIPPED[-2:], ids=lambda p: p.name)
def test_every_setting_explain_writes_satisfies_the_schema(validator, path):
    data = tomllib.loads(explain(load_scenario(path)))  # every setting, defaults included
    assert [e.message for e in validator.iter_errors(data)] == []


@pytest.mark.parametrize("name", REJECTED)
def test_broken_files_are_rejected(validator, name):
    path = ROOT / "tests" / "broken" / f"{name}.toml"
    assert list(validator.iter_errors(read(path))), f"{name} satisfies the schema"


@pytest.mark.parametrize(
    "data",
    [
        {"extends": ""},
        {"handoff": {"sla_hours": "never"}},
        {"sales": {"ae": {"attempt_hours": -1}}},
        {"sales": {"ae": {"attempt_hours": 1e6}}},  # above a year of hours
        {"sales": {"ae": {"prospecting": {"hours_per_prospect": 0}}}},
        {"deals": {"stages": {"close": {"new": "yes"}}}},
    ],
    ids=repr,
)
def test_values_the_loader_refuses_are_rejected(validator, data):
    assert list(validator.iter_errors(data))


def test_the_file_language_is_accepted(validator):
    data = {
        "extends": "base/market.toml",
        "handoff": {"sla_hours": "None"},
        "sales": {"ae": {"attempt_hours": 0.3, "prospecting": {"hours_per_prospect": "none"}}},
        "deals": {"stages": {"legal": {"new": True, "pass_probability": 0.9}}},  # one stage
    }
    assert [e.message for e in validator.iter_errors(data)] == []


def test_schema_command_prints_the_file_schema():
    out = subprocess.run(
        [sys.executable, "-m", "gtmsim", "schema"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert json.loads(out.stdout) == file_schema()
