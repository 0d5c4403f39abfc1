"""The import-linter contracts of pyproject.toml hold (layers; extraction stands alone;
the library never imports Airflow or the tests; Elasticsearch only in store; no import
cycle), and a planted violation breaks each.

In the static tier: each check runs lint-imports in a subprocess over the whole tree.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

LINT = Path(sys.executable).parent / "lint-imports"


def lint(cwd: Path) -> subprocess.CompletedProcess:
    # PYTHONPATH first: the copy's package must shadow the installed (editable) one.
    return subprocess.run([str(LINT), "--no-cache"], cwd=cwd, capture_output=True, text=True, timeout=300,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(cwd)})


def test_the_tree_keeps_every_contract():
    done = lint(REPO)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "6 kept, 0 broken" in done.stdout


# what is planted (file -> text), and the contract it must break
VIOLATIONS = {
    "extraction imports the store": ({"pipeline/extract/leak.py": "from pipeline.store import writer\n"},
                                     "Extraction stands alone"),
    "a stage imports the ingest path": ({"pipeline/store/leak.py": "from pipeline.ingest import Ingestor\n"},
                                        "Layers"),
    "the library imports Airflow": ({"pipeline/leak.py": "import airflow\n"}, "The library is plain"),
    "the library imports the replica": ({"pipeline/leak.py": "import mfa_replica.server\n"},
                                       "The library never imports the replica"),
    "the crawl talks to Elasticsearch itself": ({"pipeline/crawl/leak.py": "from elasticsearch import helpers\n"},
                                                "Elasticsearch only in store"),
    "the DAG glue catches Elasticsearch's errors": (
        {"mfa_airflow/leak.py": "from elastic_transport import ConnectionError\n"}, "Elasticsearch only in store"),
    "two modules import each other": ({"pipeline/extract/leak_a.py": "import pipeline.extract.leak_b\n",
                                       "pipeline/extract/leak_b.py": "import pipeline.extract.leak_a\n"},
                                      "No import cycle"),
}


@pytest.mark.parametrize("what", list(VIOLATIONS))
def test_a_planted_violation_breaks_the_build(tmp_path, what):
    shutil.copytree(REPO / "pipeline", tmp_path / "pipeline", ignore=shutil.ignore_patterns("data", "__pycache__"))
    shutil.copytree(REPO / "mfa_airflow", tmp_path / "mfa_airflow", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPO / "mfa_replica", tmp_path / "mfa_replica", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    assert lint(tmp_path).returncode == 0, "the copy keeps the contracts before the plant"
    files, contract = VIOLATIONS[what]
    for path, text in files.items():
        (tmp_path / path).write_text(text)
    done = lint(tmp_path)
    # the contract's verdict: the first KEPT or BROKEN after its name (a long name wraps)
    verdict = re.search(re.escape(contract) + r".*?\b(KEPT|BROKEN)\b", " ".join(done.stdout.split()))
    assert done.returncode != 0 and verdict and verdict.group(1) == "BROKEN", done.stdout[-2000:]
