"""The architecture is enforced by import-linter contracts (pyproject.toml), not by review.

``lint-imports`` must pass on the tree, and must fail when a module breaks a contract:
the second test plants one violation per contract in a copy of the package.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LINT = Path(sys.executable).parent / "lint-imports"


def lint(cwd: Path) -> subprocess.CompletedProcess:
    # PYTHONPATH first: the copy's package must shadow the installed (editable) one.
    return subprocess.run([str(LINT), "--no-cache"], cwd=cwd, capture_output=True, text=True, timeout=300,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(cwd)})


def test_the_tree_keeps_every_contract():
    done = lint(REPO)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "3 kept, 0 broken" in done.stdout


VIOLATIONS = {
    "extraction imports the store": ("pipeline/extract/leak.py", "from pipeline.store import writer\n"),
    "a stage imports the ingest path": ("pipeline/store/leak.py", "from pipeline.ingest import Ingestor\n"),
    "the library imports Airflow": ("pipeline/leak.py", "import airflow\n"),
}


@pytest.mark.parametrize("what", list(VIOLATIONS))
def test_a_planted_violation_breaks_the_build(tmp_path, what):
    shutil.copytree(REPO / "pipeline", tmp_path / "pipeline", ignore=shutil.ignore_patterns("data", "__pycache__"))
    shutil.copytree(REPO / "mfa_airflow", tmp_path / "mfa_airflow", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    assert lint(tmp_path).returncode == 0, "the copy keeps the contracts before the plant"
    path, line = VIOLATIONS[what]
    (tmp_path / path).write_text(line)
    done = lint(tmp_path)
    assert done.returncode != 0 and "BROKEN" in done.stdout, done.stdout[-2000:]
