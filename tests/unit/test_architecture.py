"""The layout rules the project lives by, checked on the source itself.

- the import-linter contracts of pyproject.toml hold (layers; extraction stands alone;
  pipeline/ never imports Airflow or the tests), and a planted violation breaks them;
- DAG files only wire it: at module level they import Airflow, the mfa_airflow
  glue and the standard library, nothing that connects or reads at import time;
- every module says at its top what stage it is and what it reads.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
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
def test_every_library_module_has_a_docstring(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    assert ast.get_docstring(tree), f"{path.name} has no module docstring"


def test_there_are_dag_files():
    assert DAG_FILES


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.name)
def test_dag_files_import_only_wiring_at_module_level(path):
    roots = set(imported_roots(ast.parse(path.read_text(encoding="utf-8")), top_level_only=True))
    assert roots <= DAG_TOP_LEVEL_IMPORTS, f"{path.name} imports {roots - DAG_TOP_LEVEL_IMPORTS} at import time"


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


CODE_FILES = sorted([*(REPO / "pipeline").rglob("*.py"), *(REPO / "mfa_airflow").rglob("*.py"), *DAG_FILES,
                     *(REPO / "bench").glob("*.py")])


def _flake_problems(source: str, name: str) -> list[str]:
    from pyflakes import checker, messages

    tree = ast.parse(source, filename=name)
    found = checker.Checker(tree, filename=name)
    wrong = (messages.UndefinedName, messages.UndefinedLocal, messages.UndefinedExport, messages.UnusedImport,
             messages.ImportShadowedByLoopVar, messages.RedefinedWhileUnused)
    # a package's __init__ imports its command modules for what importing them registers
    registering = Path(name).name == "__init__.py"
    return [str(m) for m in found.messages
            if isinstance(m, wrong) and not (registering and isinstance(m, messages.UnusedImport))]


def test_no_module_uses_a_name_it_never_defined():
    """A merge once dropped an import that a line added on the other branch used: the replica
    command crashed at its first use. pyflakes sees such names (and imports left unused)."""
    problems = [p for path in CODE_FILES for p in _flake_problems(path.read_text(encoding="utf-8"), str(path))]
    assert not problems, "\n".join(problems)


def test_the_name_check_sees_a_missing_import():
    assert _flake_problems("def f():\n    return json.dumps([])\n", "planted.py")


def test_the_readme_tree_names_every_top_level_module_and_package():
    """The README's architecture tree is the map of pipeline/: nothing at its top is left off."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Architecture"):]
    tree = section[section.index("```"):section.index("```", section.index("```") + 3)]
    tops = {p.name for p in (REPO / "pipeline").iterdir()
            if (p.suffix == ".py" and p.name != "__init__.py") or (p.is_dir() and not p.name.startswith("__"))}
    missing = {name for name in tops if (name if name.endswith(".py") else f"{name}/") not in tree}
    assert not missing, f"pipeline/ entries the README tree does not name: {sorted(missing)}"


def global_lookups(root: Path) -> list[str]:
    """Calls of get_settings() / get_profile(...) in the library outside the context builder."""
    found = []
    for path in sorted((root / "pipeline").rglob("*.py")):
        if path.relative_to(root) == Path("pipeline/context.py"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                func = node.func  # get_profile(...) or module.get_profile(...), not es.indices.get_settings(...)
                name = func.id if isinstance(func, ast.Name) else (
                    func.attr if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) else None)
                if name in ("get_settings", "get_profile"):
                    found.append(f"{path.relative_to(root)}:{node.lineno}: {name}()")
    return found


def test_only_the_context_builder_reads_the_global_settings_and_profile():
    """Settings and profile are found once, by pipeline/context.py, and handed down (issue 21);
    a library module looking them up again gets its own copy and its own idea of the site."""
    assert not global_lookups(REPO), "\n".join(global_lookups(REPO))


def test_the_global_lookup_check_sees_a_planted_call(tmp_path):
    (tmp_path / "pipeline").mkdir()
    (tmp_path / "pipeline/leak.py").write_text("from pipeline.context import get_profile\nPROFILE = get_profile()\n")
    assert global_lookups(tmp_path) == ["pipeline/leak.py:2: get_profile()"]


def test_the_profile_does_not_import_the_settings():
    imported = {node.module for node in ast.walk(ast.parse((REPO / "pipeline/profile.py").read_text(encoding="utf-8")))
                if isinstance(node, ast.ImportFrom)}
    assert "pipeline.settings" not in imported
