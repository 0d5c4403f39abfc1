"""docker/docker-compose.yml agrees with the local set-up (versions, alias, ES URL, connection id, paths).

The compose file cannot be run here (no Docker engine); this keeps it honest.
"""

from __future__ import annotations

import importlib.metadata
import re
import sys
from urllib.parse import urlsplit

import pytest
import yaml

import mfa_airflow
from pipeline.settings import Settings

from tests.conftest import REPO

COMPOSE = REPO / "docker" / "docker-compose.yml"
DOCKERFILE = REPO / "docker" / "airflow.Dockerfile"


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def airflow_services(compose) -> dict:
    found = {name: svc for name, svc in compose["services"].items() if name.startswith("airflow-")}
    assert {"airflow-apiserver", "airflow-scheduler", "airflow-dag-processor"} <= set(found)
    return found


def local_es_version() -> str:
    text = (REPO / "scripts" / "env.sh").read_text(encoding="utf-8")
    return re.search(r"MFA_ES_VERSION:-([0-9.]+)", text).group(1)


def expand(value: str) -> str:
    """The value with each ${VAR...} (a secret from docker/.env) replaced by a placeholder."""
    return re.sub(r"\$\{[^}]*\}", "secret", value)


def image_tag(service: dict) -> str:
    return service["image"].rsplit(":", 1)[1]


def test_elasticsearch_and_kibana_run_the_local_nodes_version(compose):
    assert image_tag(compose["services"]["elasticsearch"]) == local_es_version()
    assert image_tag(compose["services"]["kibana"]) == local_es_version()
    assert compose["services"]["elasticsearch"]["environment"]["discovery.type"] == "single-node"
    hosts = compose["services"]["kibana"]["environment"]["ELASTICSEARCH_HOSTS"]
    assert "https://elasticsearch:9200" in hosts


def test_airflow_image_is_the_pinned_airflow_and_python(airflow_services):
    args = airflow_services["airflow-scheduler"]["build"]["args"]
    assert args["AIRFLOW_VERSION"] == importlib.metadata.version("apache-airflow")
    assert f"apache-airflow=={args['AIRFLOW_VERSION']}" in (REPO / "requirements" / "lock.txt").read_text()
    assert args["PYTHON_VERSION"] == f"{sys.version_info.major}.{sys.version_info.minor}"
    dockerfile = DOCKERFILE.read_text(encoding="utf-8")
    assert "FROM apache/airflow:${AIRFLOW_VERSION}-python${PYTHON_VERSION}" in dockerfile
    for copied in re.findall(r"^COPY (?:--chown=\S+ )?(.+?) \S+$", dockerfile, flags=re.M):
        for path in copied.split():
            assert (REPO / path).exists(), f"the Dockerfile copies {path}, which is not in the repository"


def test_every_airflow_service_reaches_elasticsearch_through_the_connection_the_dags_use(compose, airflow_services):
    es_port = compose["services"]["elasticsearch"]["ports"][0].rsplit(":", 1)[1]
    conn_var = f"AIRFLOW_CONN_{mfa_airflow.ES_CONN_ID.upper()}"
    assert conn_var in (REPO / "scripts" / "env.sh").read_text(), "local runs set the same connection"
    for name, svc in airflow_services.items():
        env = svc["environment"]
        for var in (conn_var, "MFA_ES_URL"):
            url = urlsplit(expand(env[var]))
            assert (url.hostname, str(url.port)) == ("elasticsearch", es_port), (name, var)


def test_pipeline_settings_in_compose_match_the_defaults(airflow_services):
    defaults = Settings.model_fields
    for name, svc in airflow_services.items():
        env = svc["environment"]
        assert env["MFA_INDEX_ALIAS"] == defaults["index_alias"].default
        assert env["MFA_DEADLETTER_INDEX"] == defaults["deadletter_index"].default
        assert env["MFA_STATE_INDEX"] == defaults["state_index"].default


def test_every_mfa_variable_is_read_by_someone(airflow_services):
    dag_sources = "".join(p.read_text() for p in (REPO / "dags").glob("*.py"))
    library = "".join(p.read_text() for p in (REPO / "mfa_airflow").glob("*.py"))
    for svc in airflow_services.values():
        for var in svc["environment"]:
            if not var.startswith("MFA_"):
                continue
            field = var[len("MFA_"):].lower()
            assert field in Settings.model_fields or var in dag_sources or var in library, var


def test_mounted_folders_are_where_airflow_and_the_settings_look(airflow_services):
    for name, svc in airflow_services.items():
        env = svc["environment"]
        mounts = {target.split(":")[0]: source for source, target in
                  (v.split(":", 1) for v in svc["volumes"])}
        assert mounts[env["AIRFLOW__CORE__DAGS_FOLDER"]] == "../dags"
        assert mounts[env["MFA_CONFIG_DIR"]] == "../config"
        assert env["MFA_STATE_DIR"] in mounts
        assert (COMPOSE.parent / "../dags").resolve() == REPO / "dags"


def test_init_creates_the_index_writes_pool_the_dags_use(airflow_services):
    command = " ".join(airflow_services["airflow-init"]["command"])
    assert f"pools set {mfa_airflow.INDEX_WRITES_POOL} {mfa_airflow.INDEX_WRITES_SLOTS} " in command


def test_security_is_on_with_tls_and_each_client_has_its_own_account(compose, airflow_services):
    services = compose["services"]
    es_env = services["elasticsearch"]["environment"]
    assert es_env["xpack.security.enabled"] == "true" and es_env["xpack.security.http.ssl.enabled"] == "true"
    kibana = services["kibana"]["environment"]
    assert kibana["ELASTICSEARCH_USERNAME"] == "kibana_system"  # Kibana's own account, not elastic
    setup = services["es-setup"]
    assert "../config/elasticsearch/pipeline-role.json:/setup/pipeline-role.json:ro" in setup["volumes"]
    script = setup["command"][-1]
    assert "_security/role/mfa_pipeline" in script and '\\"roles\\":[\\"mfa_pipeline\\"]' in script
    assert (REPO / "config" / "elasticsearch" / "pipeline-role.json").is_file()
    for name, svc in airflow_services.items():
        env = svc["environment"]
        conn = urlsplit(expand(env[f"AIRFLOW_CONN_{mfa_airflow.ES_CONN_ID.upper()}"]))
        assert (conn.scheme, conn.username) == ("https", env["MFA_ES_USERNAME"]) == ("https", "mfa_pipeline"), name
        assert "elastic" not in (conn.username, env["MFA_ES_USERNAME"])
        assert "ca_certs=%2Fcerts%2Fca%2Fca.crt" in conn.query and env["MFA_ES_CA_CERTS"] == "/certs/ca/ca.crt"


def test_airflow_runs_on_celery_with_redis_and_scalable_workers(compose, airflow_services):
    assert "redis" in compose["services"]
    for name, svc in airflow_services.items():
        env = svc["environment"]
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor", name
        assert urlsplit(expand(env["AIRFLOW__CELERY__BROKER_URL"])).hostname == "redis"
        assert env["AIRFLOW__CELERY__RESULT_BACKEND"].startswith("db+postgresql+psycopg2://")
        assert "redis" in svc["depends_on"]
    worker = airflow_services["airflow-worker"]
    assert worker["command"][:3] == ["airflow", "celery", "worker"]
    # --scale airflow-worker=N needs a worker without a fixed name or host port
    assert "container_name" not in worker and "ports" not in worker


def test_workers_share_the_archive_by_url(airflow_services):
    for svc in airflow_services.values():
        env = svc["environment"]
        for var in ("MFA_WARC_URL", "MFA_DEADLETTER_URL"):
            assert env[var].startswith(f"file://{env['MFA_STATE_DIR']}/"), var  # on the shared volume


def test_every_secret_the_compose_file_needs_is_in_the_env_example():
    used = set(re.findall(r"\$\{([A-Z_]+)[:?}-]", COMPOSE.read_text(encoding="utf-8")))
    example = (COMPOSE.parent / ".env.example").read_text(encoding="utf-8")
    offered = set(re.findall(r"^([A-Z_]+)=", example, flags=re.M))
    assert used and used <= offered, used - offered
