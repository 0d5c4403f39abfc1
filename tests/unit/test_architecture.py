"""The layout rules the project lives by, checked on the source itself.

- (the import-linter contracts, lint-imports in a subprocess: tests/static/test_import_contracts.py);
- DAG files only wire it: at module level they import Airflow, the mfa_airflow
  glue and the standard library, nothing that connects or reads at import time;
- every module says at its top what stage it is and what it reads.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

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


@pytest.mark.parametrize("path", [*LIBRARY_MODULES, *sorted((REPO / "mfa_replica").rglob("*.py")),
                                  *sorted((REPO / "tools").glob("*.py"))],
                         ids=lambda p: str(p.relative_to(REPO)))
def test_every_library_module_has_a_docstring(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    assert ast.get_docstring(tree), f"{path.name} has no module docstring"


def test_there_are_dag_files():
    assert DAG_FILES


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.name)
def test_dag_files_import_only_wiring_at_module_level(path):
    roots = set(imported_roots(ast.parse(path.read_text(encoding="utf-8")), top_level_only=True))
    assert roots <= DAG_TOP_LEVEL_IMPORTS, f"{path.name} imports {roots - DAG_TOP_LEVEL_IMPORTS} at import time"


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.name)
def test_dag_files_never_import_elasticsearch(path):
    """DAG files are no package import-linter sees: they reach the node through pipeline.store only."""
    roots = set(imported_roots(ast.parse(path.read_text(encoding="utf-8"))))
    assert not roots & {"elasticsearch", "elastic_transport"}, f"{path.name} imports the Elasticsearch client"


CODE_FILES = sorted([*(REPO / "pipeline").rglob("*.py"), *(REPO / "mfa_airflow").rglob("*.py"), *DAG_FILES,
                     *(REPO / "mfa_replica").rglob("*.py"),
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


def import_cycles(root: Path) -> list[list[str]]:
    """Module-level import cycles of pipeline/ and mfa_airflow/ (type-checking imports counted:
    a circle there still ties the modules to each other), each as one of its paths."""
    import grimp

    sys.path.insert(0, str(root))
    try:
        graph = grimp.build_graph("pipeline", "mfa_airflow", cache_dir=None, exclude_type_checking_imports=False)
    finally:
        sys.path.remove(str(root))
    edges = {m: graph.find_modules_directly_imported_by(m) for m in graph.modules}
    cycles, state = [], {}

    def visit(module: str, path: list[str]) -> None:
        state[module] = "open"
        for nxt in sorted(edges.get(module, ())):
            if state.get(nxt) == "open":
                cycles.append(path[path.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[module] = "done"

    for module in sorted(edges):
        if module not in state:
            visit(module, [module])
    return cycles


def test_no_import_cycle():
    """ids -> profile -> records -> ids was one (issue 21): a circle makes the import order matter
    and the layers a fiction. The import-linter contract sees packages; this sees every module."""
    assert not import_cycles(REPO), "\n".join(" -> ".join(c) for c in import_cycles(REPO))


CODE_FILE_NAMES = {p.name for p in REPO.rglob("*.py") if ".venv" not in p.parts and ".state" not in p.parts}


def _module_of(dotted: str) -> tuple[Path | None, list[str]]:
    """The source file of the longest module prefix of ``dotted`` and the names after it."""
    parts = dotted.split(".")
    for n in range(len(parts), 0, -1):
        base = REPO.joinpath(*parts[:n])
        for candidate in (base.with_suffix(".py"), base / "__init__.py"):
            if candidate.is_file():
                return candidate, parts[n:]
    return None, parts


def _top_level_names(path: Path) -> set[str]:
    names = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
    return names


def stale_references(path: Path, doc: str) -> list[str]:
    """What a module docstring names that does not exist: a file (``clean.py``, ``pipeline/crawl/fetch.py``),
    a dotted module or name (``pipeline.store.writer.index_records``), or ``module.Class`` (``run.Ingestor``)."""
    stale = []
    for ref in re.findall(r"(?<![\w./-])((?:[\w-]+/)*[\w-]+\.py)\b", doc):
        found = ((REPO / ref).is_file() or (path.parent / ref).is_file() or (REPO / "pipeline" / ref).is_file()
                 if "/" in ref else ref in CODE_FILE_NAMES)
        if not found:
            stale.append(ref)
    for ref in re.findall(r"\b((?:pipeline|mfa_airflow|mfa_replica)(?:\.\w+)+)", doc):
        source, rest = _module_of(ref)
        if source is None or (rest and rest[0] not in _top_level_names(source)):
            stale.append(ref)
    for module, name in re.findall(r"(?<![\w.])([a-z_]+)\.([A-Z]\w+)\b", doc):
        if f"{module}.py" not in CODE_FILE_NAMES:
            stale.append(f"{module}.{name}")
    return stale


def test_module_docstrings_name_only_modules_that_exist():
    """A docstring naming parse.py, run.Ingestor or crawlstate.py sends a reader to code that is gone."""
    stale = [f"{path.relative_to(REPO)}: {ref}" for path in [*CODE_FILES, *(REPO / "mfa_airflow").rglob("*.py")]
             for ref in stale_references(path, ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or "")]
    assert not stale, "\n".join(stale)


@pytest.mark.parametrize("doc", ["turns (parse.py)", "-> run.Ingestor", "state (crawlstate.py)", "pipeline/fetch.py",
                                 "pipeline.jobs.backfill.no_such_function", "pipeline.nothing"])
def test_the_docstring_check_sees_a_stale_reference(doc):
    assert stale_references(REPO / "pipeline" / "ingest.py", doc)


def test_the_top_of_the_library_holds_at_most_eight_modules():
    """The stages are packages; what every stage shares and the one ingest path are few enough to read
    at a glance (issue 21: 12 loose modules hid the stages)."""
    loose = sorted(p.name for p in (REPO / "pipeline").glob("*.py") if p.name != "__init__.py")
    assert len(loose) <= 8, loose
