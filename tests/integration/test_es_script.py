"""scripts/es.sh: a clear message when the node does not answer or cannot start."""

import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.conftest import REPO

ES_SH = REPO / "scripts" / "es.sh"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_es_sh(*args, env_extra):
    env = {**os.environ, **env_extra}
    return subprocess.run([str(ES_SH), *args], env=env, capture_output=True, text=True, timeout=300)


def test_status_says_when_nothing_answers():
    result = run_es_sh("status", env_extra={"MFA_ES_URL": f"http://127.0.0.1:{free_port()}"})
    assert result.returncode == 3
    assert "does not answer" in result.stdout


@pytest.fixture
def scratch_state():
    # Under the repo's .state (not /tmp/pytest-of-root) so the unprivileged ES user can reach it.
    base = REPO / ".state" / "tmp"
    base.mkdir(parents=True, exist_ok=True)
    path = Path(tempfile.mkdtemp(prefix="es-script-", dir=base))
    yield path
    es_folder = path / "es"
    if es_folder.is_symlink():  # es.sh moved the node's files where its user can reach them
        shutil.rmtree(es_folder.resolve().parent, ignore_errors=True)  # /var/lib/mfa-ingest/<hash>
    shutil.rmtree(path, ignore_errors=True)


def test_a_node_that_cannot_start_fails_clearly_with_its_log(scratch_state):
    port = free_port()
    result = run_es_sh("start", env_extra={
        "MFA_ES_URL": f"http://127.0.0.1:{port}",
        "MFA_STATE_DIR": str(scratch_state),
        "MFA_ES_HEAP": "not-a-size",
        "MFA_ES_START_TIMEOUT": "30",
    })
    assert result.returncode != 0
    assert "error:" in result.stderr and "Elasticsearch" in result.stderr
    assert "---- last lines of" in result.stderr
    assert (scratch_state / "es" / f"elasticsearch-{os.environ['MFA_ES_VERSION']}" / "bin" / "elasticsearch").exists() or \
        (scratch_state / "es").is_symlink()


def test_install_adds_the_analysis_plugin_to_an_older_installation_once(scratch_state):
    """A node installed before plugins/analysis-lang existed gets the plugin; a second install does nothing."""
    version = os.environ["MFA_ES_VERSION"]
    installed = REPO / ".state" / "es" / f"elasticsearch-{version}"
    home = scratch_state / "es" / installed.name
    shutil.copytree(installed.resolve(), home, symlinks=True, ignore=shutil.ignore_patterns("mfa-analysis-lang"))
    assert not (home / "plugins" / "mfa-analysis-lang").exists()
    env = {"MFA_ES_URL": f"http://127.0.0.1:{free_port()}", "MFA_STATE_DIR": str(scratch_state)}

    first = run_es_sh("install", env_extra=env)
    assert first.returncode == 0, first.stderr
    descriptor = home / "plugins" / "mfa-analysis-lang" / "stable-plugin-descriptor.properties"
    assert "elasticsearch.version=" + version in descriptor.read_text()
    assert "installed the mfa-analysis-lang plugin" in first.stderr

    second = run_es_sh("install", env_extra=env)
    assert second.returncode == 0 and "plugin" not in second.stderr
