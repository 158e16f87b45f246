"""Which part of gtmsim may import which: data flows one way (scenario -> model ->
results), and the library never imports the command line."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT


def imports(path: Path, root: Path = ROOT) -> set[str]:
    """Every module and name a source file under ``root`` imports, anywhere in the file
    (inside functions too) but its ``if __name__ == "__main__":`` block, with relative
    imports resolved."""
    package = ".".join(path.relative_to(root).parts[:-1])
    tree = ast.parse(path.read_text(), str(path))
    tree.body = [node for node in tree.body if not _main_guard(node)]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0]
                base = f"{parent}.{base}" if base else parent
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def _main_guard(node: ast.stmt) -> bool:
    return isinstance(node, ast.If) and ast.unparse(node.test) in (
        "__name__ == '__main__'",
        "'__main__' == __name__",
    )


def within(name: str, package: str) -> bool:
    """Whether a module (or a name imported from one) is ``package`` or inside it."""
    return name == package or name.startswith(package + ".")


def test_the_import_scanner_sees_absolute_and_relative_imports(tmp_path):
    results = tmp_path / "gtmsim" / "results"
    results.mkdir(parents=True)
    source = results / "x.py"
    source.write_text(
        "import numpy\nfrom . import table\n"
        "def f():\n    from ..model import leads\n    from gtmsim.model.org import QUARTER_DAYS\n"
        "if __name__ == '__main__':\n    import gtmsim.cli\n"
    )
    assert imports(source, tmp_path) >= {
        "numpy",
        "gtmsim.results.table",
        "gtmsim.model.leads",
        "gtmsim.model.org.QUARTER_DAYS",
    }
    assert "gtmsim.cli" not in imports(source, tmp_path)


def test_results_never_import_the_model():
    sources = sorted((ROOT / "gtmsim" / "results").glob("*.py"))
    assert sources
    wrong = {
        path.name: sorted(m for m in imports(path) if within(m, "gtmsim.model")) for path in sources
    }
    assert {name: found for name, found in wrong.items() if found} == {}


def test_the_calibration_library_does_not_import_the_command_line():
    # only `python -m gtmsim.calibration` reaches the command line, from its __main__ block
    assert not [m for m in imports(ROOT / "gtmsim" / "calibration.py") if within(m, "gtmsim.cli")]
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, gtmsim.calibration; "
            "print([m for m in sys.modules if m.startswith('gtmsim.cli')])",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert loaded.stdout.strip() == "[]"
