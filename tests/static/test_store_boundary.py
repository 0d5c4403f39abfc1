"""Elasticsearch only in store, for calls too: no module outside ``pipeline/store/`` calls a
method of the Elasticsearch client (``.search(``, ``.get(``, ``.mget(``, ``.count(``, ``.bulk(``,
``.indices.``, ``.options(``...). The import-linter contract (test_import_contracts.py) keeps
``elasticsearch`` imports in the store; a module handed the client (``ctx.es``) could still query
it without importing anything, as the crawl ledger once did. It may pass the client on to a store
function, nothing more.

An AST check over the library, the Airflow glue, the DAG files, the replica, the tools and the
bench scripts: a client is a name or attribute called ``es`` (``es``, ``self.es``, ``ctx.es``,
``_es``, ``es_client``), a parameter annotated ``Elasticsearch``, or a name assigned one of
those; any attribute taken of a client is a call of its API. A bench script counts, refreshes
and deletes its throw-away indices through the store's functions too (``design.count``,
``design.refresh``, ``design.delete_like``).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import REPO

CLIENT_NAMES = {"es", "_es", "es_client"}
# The two benches that measure the node's raw cost: a raw ``_bulk`` of pre-serialised bodies, the
# node's process CPU and a scratch index with a variant mapping are the client without the store,
# on purpose (the figure the writer is compared against). Every other bench goes through the store.
RAW_NODE_BENCHES = {REPO / "bench" / "replay_bench.py", REPO / "bench" / "analysis_bench.py"}
CHECKED = sorted(p for p in [*(REPO / "pipeline").rglob("*.py"), *(REPO / "mfa_airflow").rglob("*.py"),
                             *(REPO / "dags").glob("*.py"), *(REPO / "mfa_replica").rglob("*.py"),
                             *(REPO / "tools").glob("*.py"), *(REPO / "bench").glob("*.py")]
                 if (REPO / "pipeline" / "store") not in p.parents and p not in RAW_NODE_BENCHES)


def _annotated_client(annotation: ast.expr | None) -> bool:
    text = ast.unparse(annotation) if annotation is not None else ""
    return "Elasticsearch" in text


def client_calls(source: str) -> list[tuple[int, str]]:
    """``(line, expression)`` of every attribute taken of an Elasticsearch client in ``source``."""
    tree = ast.parse(source)
    names = set(CLIENT_NAMES)
    for node in ast.walk(tree):  # parameters typed as the client, whatever their name
        if isinstance(node, ast.arg) and _annotated_client(node.annotation):
            names.add(node.arg)

    def is_client(expr: ast.expr) -> bool:
        if isinstance(expr, ast.Name):
            return expr.id in names
        if isinstance(expr, ast.Attribute):
            return expr.attr in CLIENT_NAMES
        if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute):  # es.options(...) is a client
            return expr.func.attr == "options" and is_client(expr.func.value)
        return False

    for _ in range(2):  # aliases (``node = ctx.es``), and aliases of aliases
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and is_client(node.value):
                names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and (
                    _annotated_client(node.annotation) or (node.value is not None and is_client(node.value))):
                names.add(node.target.id)
    found = {(node.lineno, ast.unparse(node)) for node in ast.walk(tree)
             if isinstance(node, ast.Attribute) and is_client(node.value)}
    return sorted(found)


def test_the_check_covers_the_modules_handed_the_client():
    checked = {p.relative_to(REPO).as_posix() for p in CHECKED}
    assert {"pipeline/crawl/state.py", "pipeline/ingest.py", "pipeline/jobs/redrive.py",
            "bench/crawl_bench.py", "bench/cluster_bench.py"} <= checked
    assert not any(p.startswith("pipeline/store/") for p in checked)


@pytest.mark.parametrize("path", CHECKED, ids=lambda p: p.relative_to(REPO).as_posix())
def test_no_module_outside_the_store_calls_the_client(path):
    calls = client_calls(path.read_text(encoding="utf-8"))
    assert not calls, (f"{path.relative_to(REPO)} calls the Elasticsearch client itself (move the call to a "
                       f"pipeline/store module): " + "; ".join(f"line {n}: {text}" for n, text in calls))


def imports_elasticsearch(source: str) -> bool:
    """Whether ``source`` imports the client library (the import-linter contract sees packages only)."""
    for node in ast.walk(ast.parse(source)):
        names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                 else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
        if any(name.split(".")[0] == "elasticsearch" for name in names):
            return True
    return False


@pytest.mark.parametrize("path", [p for p in CHECKED if p.parent == REPO / "bench"],
                         ids=lambda p: p.relative_to(REPO).as_posix())
def test_no_bench_script_makes_a_client_of_its_own(path):
    assert not imports_elasticsearch(path.read_text(encoding="utf-8")), (
        f"{path.relative_to(REPO)} imports elasticsearch: connect through pipeline.store.client.connect")


PLANTED = {
    "a search on the context's client": "def f(ctx):\n    return ctx.ctx.es.search(index='i', query={})\n",
    "a ledger's own read": "class L:\n    def get(self, k):\n        return self.es.mget(index='i', ids=[k])\n",
    "an options() chain": "def f(es):\n    return es.options(ignore_status=404).get(index='i', id='k')\n",
    "an index admin call": "def f(ctx):\n    ctx.es.indices.refresh(index='i')\n",
    "a bulk call": "def f(es, body):\n    es.bulk(operations=body)\n",
    "a typed parameter": "def f(node: 'Elasticsearch'):\n    return node.count(index='i')\n",
    "an alias of the client": "def f(ctx):\n    node = ctx.es\n    return node.count(index='i')['count']\n",
}


@pytest.mark.parametrize("what", list(PLANTED))
def test_a_planted_client_call_is_found(what):
    assert client_calls(PLANTED[what]), what


def test_handing_the_client_to_the_store_is_no_call():
    source = ("from pipeline.store import ledger\n"
              "def f(self, ctx, d):\n"
              "    ledger.count(self.es, 'i', {})\n"
              "    bulk_write(ctx.es, [], what='x', retry_window=1)\n"
              "    return d.get('es'), self.settings.es_url\n")
    assert client_calls(source) == []
