"""The layout rules the project lives by, checked on the source itself.

- pipeline/ is a plain library: it never imports Airflow;
- DAG files only wire it: at module level they import Airflow, the mfa_airflow
  glue and the standard library, nothing that connects or reads at import time;
- every module says at its top what stage it is and what it reads.
"""

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LIBRARY_MODULES = sorted((REPO / "pipeline").rglob("*.py"))
DAG_FILES = sorted((REPO / "dags").glob("*.py"))
DAG_TOP_LEVEL_IMPORTS = {"__future__", "airflow", "mfa_airflow", "datetime", "pendulum", "typing"}


def imported_roots(tree: ast.AST, top_level_only: bool = False):
    nodes = tree.body if top_level_only else ast.walk(tree)
    for node in nodes:
        if isinstance(node, ast.Import):
            yield from (alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module.split(".")[0]


@pytest.mark.parametrize("path", LIBRARY_MODULES, ids=lambda p: str(p.relative_to(REPO)))
def test_library_never_imports_airflow(path):
    assert "airflow" not in set(imported_roots(ast.parse(path.read_text(encoding="utf-8"))))


@pytest.mark.parametrize("path", LIBRARY_MODULES, ids=lambda p: str(p.relative_to(REPO)))
def test_every_library_module_has_a_docstring(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    assert ast.get_docstring(tree), f"{path.name} has no module docstring"


def test_there_are_dag_files():
    assert DAG_FILES


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.name)
def test_dag_files_import_only_wiring_at_module_level(path):
    roots = set(imported_roots(ast.parse(path.read_text(encoding="utf-8")), top_level_only=True))
    assert roots <= DAG_TOP_LEVEL_IMPORTS, f"{path.name} imports {roots - DAG_TOP_LEVEL_IMPORTS} at import time"
