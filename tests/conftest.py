"""Shared test fixtures.

Tiers: tests/unit (no services), tests/static (the packaging and lint-imports checks,
in subprocesses), tests/integration (the real Elasticsearch node), tests/e2e (real
Airflow + Elasticsearch + the site replica), tests/cluster (the Celery deployment).
The environment is the one scripts/env.sh gives the project's scripts, read once
here (the caller's own MFA_* settings are dropped), so pytest run by hand behaves
like scripts/test.sh. Elasticsearch is started once per session (or reused when it
already answers); each test gets its own index names.

Under pytest-xdist (scripts/test.sh runs ``-n``) every test may run in any worker,
except the modules in SHARED_MODULES that share one process or port (the cluster,
the secure node, the private node, the installed wheel): each such module runs whole
in one worker. Each worker runs its DAGs on its own copy of the migrated Airflow
database.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SAMPLE_DUMPS = REPO / "sample" / "dumps"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


# The caller's MFA_* variables the suite keeps: the node to use, the variables scripts/env.sh
# itself takes from the caller, and the knobs of the scripts that start services (heap,
# start-up timeout, the cluster's ports). Every other MFA_* (a settings field, the nightly
# schedule, ...) would change what the tests see, so it is dropped.
_CALLER_MFA_KEPT = ("MFA_ES_URL", "MFA_STATE_DIR", "MFA_VENV", "MFA_ES_VERSION", "MFA_ES_HEAP", "MFA_ES_JAVA_OPTS",
                    "MFA_ES_START_TIMEOUT", "MFA_KEEP_ES", "MFA_KEEP_CLUSTER", "MFA_PYTHON")


def _drop_callers_mfa_env() -> None:
    for key in [k for k in os.environ if k.startswith("MFA_")]:
        if key not in _CALLER_MFA_KEPT and not key.startswith("MFA_CLUSTER_"):
            del os.environ[key]


def _load_project_env() -> None:
    """Take the variables scripts/env.sh sets, without overriding the caller's."""
    out = subprocess.run(
        ["bash", "-c", f"source '{REPO}/scripts/env.sh' && env -0"],
        check=True, capture_output=True,
    ).stdout.decode()
    for entry in out.split("\0"):
        key, sep, value = entry.partition("=")
        if sep and (key.startswith(("MFA_", "AIRFLOW")) and key not in os.environ):
            os.environ[key] = value


_drop_callers_mfa_env()
_load_project_env()
# The nodes the tests start (the secured node, private nodes, the shared one when pytest is run by hand) as
# scripts/test.sh starts its own: with the JVM's first compiler tier only (see test.sh for why).
os.environ.setdefault("MFA_ES_JAVA_OPTS", "-XX:TieredStopAtLevel=1")

# Airflow's SQLite metadata DB as scripts/airflow.sh migrates it, and this xdist worker's copy.
AIRFLOW_DB = Path(os.environ["AIRFLOW_HOME"]) / "airflow.db"
_WORKER = os.environ.get("PYTEST_XDIST_WORKER")
WORKER_AIRFLOW_DB = AIRFLOW_DB.with_name(f"airflow-{_WORKER}.db") if _WORKER else None


def _use_worker_airflow_db() -> None:
    """Point this worker's Airflow at a copy of the migrated DB, before Airflow is imported:
    dag.test() in two processes on one SQLite file would lock each other out."""
    if WORKER_AIRFLOW_DB is None or os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] != f"sqlite:///{AIRFLOW_DB}":
        return  # not under xdist, or the caller chose another database
    os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{WORKER_AIRFLOW_DB}"
    if AIRFLOW_DB.exists():  # scripts/test.sh migrated it before starting the workers
        shutil.copyfile(AIRFLOW_DB, WORKER_AIRFLOW_DB)


_use_worker_airflow_db()

OUTCOMES = ("new", "updated", "unchanged", "superseded", "failed")


def assert_accounted(report) -> None:
    """Every input read has exactly one outcome: ``read`` is the sum of the outcomes (a
    RunReport, or its JSON form as ``--json`` prints it)."""
    data = report.model_dump(mode="json") if hasattr(report, "model_dump") else report
    outcomes = {name: data.get(name, 0) for name in OUTCOMES}
    assert data["read"] == sum(outcomes.values()), {"read": data["read"], **outcomes}


# The site replica's fixtures (replica, replica_settings): tests/replica/plugin.py; a real pywb over
# a collection built from the replica's pages, and a Range server (archive backfill): tests/archives/plugin.py
pytest_plugins = ["tests.replica.plugin", "tests.archives.plugin"]


# Modules (or folders, ending in /) whose tests share one process or fixed port: pytest-xdist
# runs each whole in one worker.
SHARED_MODULES = {
    "tests/cluster/",  # one Celery deployment on fixed ports, for every module of the folder
    "tests/integration/test_secure_node.py",  # the secured node on MFA_ES_URL's port + 10
    "tests/integration/test_index_outage.py",  # a node of its own that the tests stop and start
    "tests/static/test_packaging.py",  # the wheel built once for the module
    # the reader's work folder (sample indexed, replica crawled: 20-50 s) built once for the module: with its
    # tests spread over the workers, between other modules' tests, it was built again for each (12 times)
    "tests/e2e/test_documented_commands.py",
}


@pytest.hookimpl(optionalhook=True)  # a hook of pytest-xdist
def pytest_xdist_make_scheduler(config, log):
    """``--dist loadgroup`` (scripts/test.sh): each test on its own, except SHARED_MODULES.
    xdist's own loadgroup renames node ids after the xdist_group marks, which pytest 9 ignores
    (the groups came apart: two workers each started the cluster)."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class SharedModulesScheduling(LoadScopeScheduling):
        """Units in collection order (the LONG_FIRST modules first), each to the worker that asks.
        xdist's LoadScopeScheduling would sort the units by their number of tests (a 10-test group
        before a 200-second single test), and it queues up to three tests on a worker: a worker
        busy with a long unit gets the shortest unit left (the queue's end) instead, so that no
        long unit waits behind another while a worker is free."""

        def schedule(self) -> None:
            self.config.option.loadscopereorder = False  # keep the collection order
            super().schedule()

        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            shared = [s for s in SHARED_MODULES if module == s or (s.endswith("/") and module.startswith(s))]
            return shared[0] if shared else nodeid

        def _assign_work_unit(self, node) -> None:
            busy_with_long = any(_is_long(scope) for scope, unit in self.assigned_work.get(node, {}).items()
                                 if not all(unit.values()))
            if busy_with_long and len(self.workqueue) > 1:
                self.workqueue.move_to_end(next(reversed(self.workqueue)), last=False)  # the shortest unit next
            super()._assign_work_unit(node)

    return SharedModulesScheduling(config, log)


# The longest units (from --durations): started first, so that no worker begins one of them when
# the others are nearly done (the run ends when its last long test does).
LONG_FIRST = (  # lengths in a fresh clone's 4-worker run (December 2026)
    "tests/cluster/",  # one group: the Celery deployment and every test on it (~5.5 min)
    "tests/e2e/test_documented_commands.py",  # one group (~3.5 min)
    "tests/integration/test_ledger_properties.py",  # one test (~2 min)
    "tests/integration/test_secure_node.py",  # one group (~1.2 min)
    "tests/integration/test_index_outage.py",  # one group (~1 min)
)


def _is_long_as(module: str, long: str) -> bool:
    return module == long or (long.endswith("/") and module.startswith(long))


def _is_long(scope: str) -> bool:
    module = scope.split("::", 1)[0]
    return any(_is_long_as(module, long) for long in LONG_FIRST)


def pytest_collection_modifyitems(config, items):
    def rank(item) -> int:
        module = item.nodeid.split("::", 1)[0]
        return next((n for n, long in enumerate(LONG_FIRST) if _is_long_as(module, long)), len(LONG_FIRST))

    items.sort(key=rank)  # stable: every other test keeps its order
    for item in items:
        parts = Path(str(item.fspath)).parts
        if "integration" in parts:
            item.add_marker(pytest.mark.integration)
        elif "e2e" in parts:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def es_url() -> str:
    return os.environ["MFA_ES_URL"]


@pytest.fixture(scope="session")
def es(es_url):
    """A client of the real node; starts it with scripts/es.sh when it does not answer."""
    from elasticsearch import Elasticsearch

    client = Elasticsearch(es_url, request_timeout=60)
    if not client.options(request_timeout=2).ping():
        subprocess.run([str(REPO / "scripts" / "es.sh"), "start"], check=True)
    client.cluster.health(wait_for_status="yellow", timeout="60s")
    yield client
    client.close()


def delete_indices_like(es, prefix: str) -> None:
    """Delete every index, alias target and index template whose name starts with ``prefix``."""
    from pipeline.store.design import delete_like

    delete_like(es, prefix)


@pytest.fixture
def index_alias(es, monkeypatch):
    """A fresh alias name for one test (MFA_INDEX_ALIAS is set to it); cleaned up after."""
    alias = f"mfa-test-{uuid.uuid4().hex[:10]}"
    monkeypatch.setenv("MFA_INDEX_ALIAS", alias)
    monkeypatch.setenv("MFA_DEADLETTER_INDEX", f"{alias}-deadletter")
    monkeypatch.setenv("MFA_STATE_INDEX", f"{alias}-crawlstate")
    from pipeline.context import get_settings

    get_settings.cache_clear()  # commands run in-process read the settings of this test
    yield alias
    get_settings.cache_clear()
    delete_indices_like(es, alias)


@pytest.fixture
def settings(index_alias, tmp_path):
    """Settings pointing at the real node, a fresh alias and a temporary state folder."""
    from pipeline.settings import Settings

    return Settings(index_alias=index_alias, deadletter_index=f"{index_alias}-deadletter",
                    state_index=f"{index_alias}-crawlstate", state_dir=tmp_path / "state")


@pytest.fixture(scope="session")
def airflow_db():
    """Airflow's SQLite metadata DB, migrated once (quick when already done); under xdist
    this worker's copy of it."""
    conn = "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"
    copied = WORKER_AIRFLOW_DB is not None and os.environ[conn] == f"sqlite:///{WORKER_AIRFLOW_DB}"
    env = {**os.environ, conn: f"sqlite:///{AIRFLOW_DB}"} if copied else None  # init migrates the main one
    subprocess.run([str(REPO / "scripts" / "airflow.sh"), "init"], check=True, env=env)
    if copied and (not WORKER_AIRFLOW_DB.exists() or WORKER_AIRFLOW_DB.stat().st_size == 0):
        shutil.copyfile(AIRFLOW_DB, WORKER_AIRFLOW_DB)  # pytest run by hand, before any migration
    return Path(os.environ["AIRFLOW_HOME"])


@pytest.fixture(scope="session")
def _parsed_dagbag(airflow_db):
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(REPO / "dags"))


def _param_values(dags) -> list[tuple[object, object]]:
    """Every Param of the DAGs and of their tasks, with a copy of its value."""
    import copy

    holders = [holder for dag in dags for holder in (dag, *dag.tasks)]
    return [(param, copy.deepcopy(param.value))
            for holder in holders if getattr(holder, "params", None)
            for _, param in holder.params.items()]


@pytest.fixture
def dagbag(_parsed_dagbag):
    """The DAGs, parsed once per session, with every param's default as parsed at the start of each test.

    ``dag.test(run_conf=...)`` runs the tasks in this process on these very objects, and Airflow's
    ``process_params`` resolves the run's conf on the task's own Param objects (``Param.resolve`` sets
    ``value``): a run's ``sections``/``languages`` would become the defaults of every later run of that
    DAG in the session (a scheduler's worker parses the DAG anew for each task and never sees this).
    """
    saved = _param_values(_parsed_dagbag.dags.values())
    yield _parsed_dagbag
    for param, value in saved:
        param.value = value


# --- no test prints a password --------------------------------------------------------------
# The passwords of the secured node (scripts/es.sh, MFA_ES_SECURE=1) and the one the secret tests
# put into MFA_ES_URL: any of them in a test's captured output, logs or failure report fails it.
TEST_PASSWORDS = ("Sup3r-s3cret-pw",)


def _known_passwords() -> list[str]:
    secure = Path(os.environ.get("MFA_STATE_DIR", REPO / ".state")) / "es" / "secure"
    found = [p.read_text().strip() for p in secure.glob("*.password")] if secure.is_dir() else []
    return [p for p in (*found, *TEST_PASSWORDS) if len(p) >= 8]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when != "call":  # its sections hold what setup printed too
        return
    printed = "".join(text for _, text in report.sections) + (str(report.longrepr) if report.longrepr else "")
    leaked = [p for p in _known_passwords() if p in printed]
    if leaked:
        shown = str(report.longrepr or "")
        for password in leaked:
            shown = shown.replace(password, "***")
        report.outcome = "failed"
        report.longrepr = f"a password was printed in this test's output or report (shown as ***)\n{shown}"
        report.sections = []
