"""The README's Python examples run as written."""

from __future__ import annotations

import re

import pytest

from tests.conftest import ROOT


def python_blocks() -> list[str]:
    text = (ROOT / "README.md").read_text()
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


def test_readme_has_python_examples():
    assert len(python_blocks()) >= 2


@pytest.mark.parametrize("index", range(len(python_blocks())))
def test_readme_python_example_runs(index, monkeypatch, tmp_path):
    monkeypatch.chdir(ROOT)
    code = python_blocks()[index].replace('"events.csv"', repr(str(tmp_path / "events.csv")))
    exec(compile(code, f"README.md python block {index}", "exec"), {"__name__": "__readme__"})
