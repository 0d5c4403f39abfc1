"""Fixtures of the integration tier (the real node): the sample indexed, crawl settings
pointed at the replica, and a second, private Elasticsearch node that a test may stop.

The shared node (MFA_ES_URL) is never stopped. ``private_node`` copies the installed
distribution into a temporary state folder and runs scripts/es.sh there with
its own MFA_ES_URL / MFA_STATE_DIR, on a free port.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipeline.context import RunContext, get_profile
from pipeline.extract.extractor import extract_record
from pipeline.ingest import ingest_archive
from pipeline.sources.dumps import iter_dump_folder
from tests.conftest import REPO, SAMPLE_DUMPS
from tests.replica.plugin import replica_overrides


@pytest.fixture
def crawl_settings(settings, replica):
    """The test's settings (fresh alias, temporary state) with the crawl pointed at the replica."""
    return settings.model_copy(update=replica_overrides(replica))


@pytest.fixture
def sample_records(settings):
    """The bundled sample dumps, extracted (not indexed)."""
    profile = get_profile(settings.site_profile_path)
    return [extract_record(page, profile) for page in iter_dump_folder(SAMPLE_DUMPS)]


@pytest.fixture
def indexed_sample(es, settings, index_alias):
    """The bundled sample dumps indexed under the test's alias; the run's report."""
    report = ingest_archive(RunContext.build(settings), SAMPLE_DUMPS)
    assert report.failed == 0
    es.indices.refresh(index=index_alias)
    return report


def _free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _free_port_pair() -> int:
    """An HTTP port whose transport port (+100, as es.sh sets it) is free too."""
    for port in range(9250, 9300):
        if _free(port) and _free(port + 100):
            return port
    raise RuntimeError("no free port pair in 9250-9299")


@dataclass
class PrivateNode:
    url: str
    env: dict

    def _es_sh(self, command: str) -> None:
        subprocess.run([str(REPO / "scripts" / "es.sh"), command], env=self.env, check=True,
                       stdout=subprocess.DEVNULL, timeout=300)

    def start(self) -> None:
        self._es_sh("start")

    def stop(self) -> None:
        self._es_sh("stop")


@pytest.fixture(scope="module")
def private_node():
    """A node of our own (started, stopped and deleted by the tests that use it), shared by the tests
    of one module and gone when the module ends (an idle node would cost CPU for the rest of the run)."""
    shared_state = Path(os.environ.get("MFA_STATE_DIR", REPO / ".state"))
    version = os.environ.get("MFA_ES_VERSION", "9.2.0")
    dist = (shared_state / "es" / f"elasticsearch-{version}").resolve()
    if not (dist / "bin" / "elasticsearch").exists():
        pytest.fail(f"no installed Elasticsearch at {dist}: run scripts/es.sh install")
    # Under /tmp and world-readable, so the unprivileged node user reaches it without es.sh relocating it.
    base = Path(tempfile.mkdtemp(prefix="mfa-es-private-"))
    base.chmod(0o755)
    shutil.copytree(dist, base / "es" / dist.name, symlinks=True)  # a copy: es.sh rewrites its config
    port = _free_port_pair()
    env = {**os.environ, "MFA_ES_URL": f"http://127.0.0.1:{port}", "MFA_STATE_DIR": str(base),
           "MFA_ES_HEAP": "384m"}
    node = PrivateNode(url=env["MFA_ES_URL"], env=env)
    try:
        node.start()  # inside the try: a start that gives up must still be stopped and removed
        yield node
    finally:
        try:
            node.stop()
        finally:
            shutil.rmtree(base, ignore_errors=True)
