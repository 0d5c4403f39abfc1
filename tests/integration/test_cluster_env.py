"""``scripts/cluster.sh env`` (no cluster needed): export lines an operator sources before running
``airflow`` by hand against the cluster, the metadata database and the broker included."""

from __future__ import annotations

import os
import re
import subprocess

from tests.conftest import REPO


def test_cluster_env_prints_export_lines_with_the_database(tmp_path):
    env = {**os.environ, "MFA_CLUSTER_DIR": str(tmp_path / "cluster")}
    printed = subprocess.run([str(REPO / "scripts" / "cluster.sh"), "env"], env=env, capture_output=True,
                             text=True, timeout=300, check=True).stdout
    lines = [line for line in printed.splitlines() if line and not line.startswith("#")]
    assert lines and all(line.startswith("export ") for line in lines), printed
    # Sourced, the variables are the cluster's: PostgreSQL, not the development SQLite database.
    shown = subprocess.run(["bash", "-c", f"source <({REPO}/scripts/cluster.sh env) && "
                            "echo \"$AIRFLOW__DATABASE__SQL_ALCHEMY_CONN|$AIRFLOW__CELERY__BROKER_URL|$AIRFLOW_HOME\""],
                           env=env, capture_output=True, text=True, timeout=300, check=True).stdout.strip()
    database, broker, home = shown.split("|")
    assert database.startswith("postgresql+psycopg2://airflow:") and "@127.0.0.1:" in database
    assert broker.startswith("redis://") and home == str(tmp_path / "cluster" / "airflow")


# Other ports than the defaults (5433, 6380, 8280, 8794), as a second cluster on the machine would take.
OTHER_PORTS = {"MFA_CLUSTER_PG_PORT": "15433", "MFA_CLUSTER_REDIS_PORT": "16380", "MFA_CLUSTER_API_PORT": "18280",
               "MFA_CLUSTER_LOG_PORT": "18794", "MFA_CLUSTER_WORKERS": "3"}
DEFAULT_PORTS = ("5433", "6380", "8280", "8794", "8795")


def test_every_port_of_the_cluster_comes_from_its_configuration(tmp_path):
    """A second cluster beside the first: with other MFA_CLUSTER_*_PORT values, every address the
    Airflow processes are given and every listener `status` names (tests/cluster checks that the
    running processes listen exactly there) is on 127.0.0.1 at a configured port, none at a default."""
    env = {**os.environ, "MFA_CLUSTER_DIR": str(tmp_path / "cluster"), **OTHER_PORTS}
    # Passwords that begin with digits, as token_urlsafe gives about one run in six: "//airflow:08..."
    # once read as a host and port (the test failed at random); the script keeps secrets it finds.
    (tmp_path / "cluster").mkdir()
    (tmp_path / "cluster" / "secrets.env").write_text("".join(
        f"{name}=08{name.lower()}x\n" for name in ("PG_PASSWORD", "REDIS_PASSWORD", "ADMIN_PASSWORD", "JWT_SECRET",
                                                    "API_SECRET_KEY")) + "FERNET_KEY=" + "A" * 43 + "=\n")
    script = str(REPO / "scripts" / "cluster.sh")
    printed = subprocess.run([script, "env"], env=env, capture_output=True, text=True, timeout=300, check=True).stdout
    ports = {name: value for name, value in OTHER_PORTS.items() if name.endswith("_PORT")}
    addresses = set(re.findall(r"(?:@|//)([\w.]+):(\d+)(?![\w@-])", printed))  # host:port, not user:password
    assert addresses == {("127.0.0.1", ports["MFA_CLUSTER_PG_PORT"]), ("127.0.0.1", ports["MFA_CLUSTER_REDIS_PORT"]),
                         ("127.0.0.1", ports["MFA_CLUSTER_API_PORT"])}, printed
    assert "export AIRFLOW__API__HOST=127.0.0.1" in printed and "AIRFLOW__API__PORT=18280" in printed
    stopped = subprocess.run([script, "status"], env=env, capture_output=True, text=True, timeout=300)
    assert stopped.returncode == 3, stopped.stderr  # nothing runs
    said = dict(re.findall(r"^([\w-]+): stopped, would listen on (\S+)$", stopped.stdout, re.M))
    assert said == {"postgres": "127.0.0.1:15433", "redis": "127.0.0.1:16380", "api-server": "127.0.0.1:18280",
                    "logs-worker1": "127.0.0.1:18794", "logs-worker2": "127.0.0.1:18795",
                    "logs-worker3": "127.0.0.1:18796"}, stopped.stdout
    assert not [p for p in DEFAULT_PORTS if re.search(rf":{p}\b", printed + stopped.stdout)]
