"""The pipeline against a node with security on (scripts/es.sh with MFA_ES_SECURE=1).

TLS checked against the generated CA, the least-privilege user mfa-pipeline
(config/elasticsearch/pipeline-role.json): ingest, the crawl state and search
work with it; a user without write privilege gets a clear authorization error
at once instead of a retry loop. The node runs on the plain node's port + 10
(9200 -> 9210); it is started once for this module and stopped when the module ends
unless MFA_KEEP_ES=1 (or it was running before).
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from pipeline.context import RunContext
from pipeline.settings import Settings
from tests.conftest import REPO, SAMPLE_DUMPS
from tests.replica.plugin import replica_overrides


@pytest.fixture(scope="module")  # the module runs whole in one worker; stopped when it ends, not idle till the run's
def secure_node():
    plain = urlsplit(os.environ["MFA_ES_URL"])
    url = f"https://127.0.0.1:{(plain.port or 9200) + 10}"
    env = {**os.environ, "MFA_ES_URL": url, "MFA_ES_SECURE": "1"}
    running = subprocess.run([str(REPO / "scripts" / "es.sh"), "status"], env=env, capture_output=True).returncode == 0
    subprocess.run([str(REPO / "scripts" / "es.sh"), "start"], env=env, check=True)
    secure = Path(os.environ["MFA_STATE_DIR"]) / "es" / "secure"
    yield {"url": url, "ca": secure / "config" / "certs" / "ca" / "ca.crt",
           "password": {u: (secure / f"{u}.password").read_text().strip() for u in ("pipeline", "reader", "elastic")}}
    if not running and not os.environ.get("MFA_KEEP_ES"):
        subprocess.run([str(REPO / "scripts" / "es.sh"), "stop"], env=env, check=False)


def secure_settings(node, user: str, tmp_path, **extra) -> Settings:
    """Names inside the project's patterns (mfa-transcripts*, mfa-deadletter*, mfa-crawl-state*), as the roles grant."""
    run = f"sec-{uuid.uuid4().hex[:8]}"
    return Settings(es_url=node["url"], es_ca_certs=node["ca"], es_username=f"mfa-{user}",
                    es_password=node["password"][user], index_alias=f"mfa-transcripts-{run}",
                    deadletter_index=f"mfa-deadletter-{run}", state_index=f"mfa-crawl-state-{run}",
                    state_dir=tmp_path / "state", **extra)


@pytest.fixture
def admin(secure_node):
    from elasticsearch import Elasticsearch

    client = Elasticsearch(secure_node["url"], ca_certs=str(secure_node["ca"]),
                           basic_auth=("elastic", secure_node["password"]["elastic"]))
    yield client
    client.close()


def cleanup(admin, settings):
    for pattern in (f"{settings.index_alias}*", settings.deadletter_index, settings.state_index):
        names = list(admin.indices.get(index=pattern, expand_wildcards="all", ignore_unavailable=True,
                                       allow_no_indices=True))
        if names:
            admin.indices.delete(index=",".join(names))
    admin.options(ignore_status=404).indices.delete_index_template(name=f"{settings.index_alias}*")


def test_the_node_refuses_anonymous_and_unverified_clients(secure_node):
    import requests

    assert requests.get(secure_node["url"], verify=str(secure_node["ca"]), timeout=10).status_code == 401
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(secure_node["url"], timeout=10)  # the CA is ours, not a public one


def test_ingest_crawl_state_and_search_with_the_pipeline_user(secure_node, admin, replica, tmp_path):
    from pipeline.crawl.crawler import run_crawl
    from pipeline.ingest import ingest_archive
    from pipeline.context import get_profile
    from pipeline.store.search import search
    from pipeline.store.client import connect

    settings = secure_settings(secure_node, "pipeline", tmp_path, **replica_overrides(replica))
    try:
        report = ingest_archive(RunContext.build(settings), SAMPLE_DUMPS)
        dumps = len(list(SAMPLE_DUMPS.iterdir()))
        assert (report.indexed, report.failed) == (dumps, 0)
        crawl = run_crawl(RunContext.build(settings, get_profile(settings.site_profile_path)))
        assert crawl.failed == 0 and crawl.new == len([a for a in replica.live_articles() if a.site == "current"])
        with connect(settings) as es:
            es.indices.refresh(index=settings.index_alias)
            total, hits = search(es, settings.index_alias, "Lavrov", size=3)
            assert total >= 1 and hits
            es.indices.refresh(index=settings.state_index)
            assert es.count(index=settings.state_index)["count"] >= crawl.new  # the crawl state was written
            with pytest.raises(Exception, match="unauthorized"):
                es.indices.create(index="other-index")  # nothing outside the project's patterns
    finally:
        cleanup(admin, settings)


def test_reindex_rollback_prune_history_and_redrive_work_as_the_writer(secure_node, admin, tmp_path):
    """Everything else the pipeline does, with the writer's role and nothing more."""
    import shutil

    from pipeline.ingest import ingest_archive
    from pipeline.jobs.rebuild import rebuild
    from pipeline.jobs.redrive import redrive
    from pipeline.store import reindex
    from pipeline.store.client import connect
    from pipeline.store.deadletter import mark_resolved, open_dead_letters, prune_resolved
    from pipeline.store.design import versions_index_name

    settings = secure_settings(secure_node, "pipeline", tmp_path)
    dumps = tmp_path / "dumps"
    dumps.mkdir()
    for name in sorted(p.name for p in SAMPLE_DUMPS.iterdir())[:3]:
        shutil.copyfile(SAMPLE_DUMPS / name, dumps / name)
    (dumps / "junk.txt").write_bytes(b"\x00\x01\x02 not a page")
    alias = settings.index_alias
    try:
        report = ingest_archive(RunContext.build(settings), dumps)
        assert (report.indexed, report.failed) == (3, 1)
        with RunContext.build(settings) as ctx:
            built = rebuild(ctx)
        assert built.swapped and built.new_index == f"{alias}-v2", built
        with connect(settings) as es:
            assert reindex.rollback(es, settings) == (f"{alias}-v2", f"{alias}-v1")
        with RunContext.build(settings) as ctx:
            assert rebuild(ctx).swapped  # v3 live, v1 and v2 kept behind it
        with connect(settings) as es:
            table, doomed = reindex.prune_versions(es, alias, keep=1)
            assert doomed and not any(es.indices.exists(index=name) for name in doomed)
            es.indices.refresh(index=versions_index_name(alias))
            assert es.count(index=versions_index_name(alias))["count"] >= 3  # the history was written and is read
        again = redrive(RunContext.build(settings))
        assert again.report.read == 1 and again.report.failed == 1  # junk stays junk, but the letter was read
        assert again.report.extra["failed_again"] == 1  # the same refusal: its letter stays open
        with connect(settings) as es:
            (letter,) = open_dead_letters(es, settings)
            assert letter["redrives"] == 1
            mark_resolved(es, settings, letter, "given up by hand")
            # the prune of resolved letters deletes documents, not the index
            assert prune_resolved(es, settings, 0) == 1
    finally:
        cleanup(admin, settings)


def test_a_user_without_write_privilege_gets_a_clear_error_not_retries(secure_node, admin, tmp_path):
    from pipeline.ingest import ingest_archive

    settings = secure_settings(secure_node, "reader", tmp_path)
    try:
        with pytest.raises(Exception) as failure:
            ingest_archive(RunContext.build(settings), SAMPLE_DUMPS)
        message = str(failure.value)
        assert "mfa-reader" in message and "unauthorized" in message, message
    finally:
        cleanup(admin, settings)


# --- secrets: a password is printed nowhere; a TLS problem is named as one -------------------

CLI = str(REPO / ".venv" / "bin" / "mfa-ingest")
PASSWORD = "Sup3r-s3cret-pw"


def run_cli(*args, **env) -> subprocess.CompletedProcess:
    return subprocess.run([CLI, *map(str, args)], env={**os.environ, **{k: str(v) for k, v in env.items()}},
                          capture_output=True, text=True, timeout=300)


def closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def assert_printed_nowhere(secret: str, done: subprocess.CompletedProcess, *folders: Path) -> None:
    assert secret not in done.stdout and secret not in done.stderr, (done.stdout, done.stderr)
    for folder in folders:
        for file in folder.rglob("*"):
            if file.is_file():
                assert secret.encode() not in file.read_bytes(), f"the password is in {file}"


@pytest.mark.parametrize("command", [["ingest", SAMPLE_DUMPS], ["crawl", "--since", "2021-12-01", "--until", "2021-12-01"]])
@pytest.mark.parametrize("flags", [[], ["--json"], ["--debug"]])
def test_a_password_inside_MFA_ES_URL_is_printed_nowhere(command, flags, tmp_path):
    url = f"https://mfa-pipeline:{PASSWORD}@127.0.0.1:{closed_port()}"
    debug = ["--debug"] if "--debug" in flags else []
    done = run_cli(*debug, *command, *[f for f in flags if f != "--debug"], MFA_ES_URL=url,
                   MFA_STATE_DIR=tmp_path, MFA_ES_RETRY_WINDOW=1)
    assert done.returncode == 3, done.stderr
    assert_printed_nowhere(PASSWORD, done, tmp_path)
    assert "Elasticsearch unreachable at https://mfa-pipeline:***@127.0.0.1" in done.stderr
    if "--json" in flags:
        error = json.loads(done.stdout)
        assert error["ok"] is False and "mfa-pipeline:***@" in error["error"]


def test_a_failing_run_keeps_the_url_password_out_of_its_report_dead_letters_and_logs(es, settings, tmp_path):
    """A run that reaches the node (security off: the credentials are sent and ignored) and
    refuses inputs: stdout, stderr, the dead-letter file and the dead-letter index stay clean."""
    plain = urlsplit(os.environ["MFA_ES_URL"])
    url = f"{plain.scheme}://mfa-pipeline:{PASSWORD}@{plain.netloc}"
    dumps = tmp_path / "dumps"
    dumps.mkdir()
    (dumps / "junk.txt").write_text("no transcript here")
    # A WARC whose record was fetched with credentials in its URL (a site behind basic auth).
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    warc = tmp_path / "site.warc.gz"
    with warc.open("wb") as fh:
        page = f"https://mfa-pipeline:{PASSWORD}@mid.ru/en/press_service/minister_speeches/1785001/"
        http = StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1")
        WARCWriter(fh, gzip=True).write_record(WARCWriter(fh).create_warc_record(
            page, "response", payload=io.BytesIO(b"<html><body>no transcript</body></html>"), http_headers=http))
    state = tmp_path / "state"
    done = run_cli("ingest", dumps, warc, "--json", MFA_ES_URL=url, MFA_STATE_DIR=state,
                   MFA_INDEX_ALIAS=settings.index_alias, MFA_DEADLETTER_INDEX=settings.deadletter_index)
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    assert report["failed"] == 2 and report["read"] == 2
    assert PASSWORD not in done.stdout + done.stderr
    es.indices.refresh(index=settings.deadletter_index)
    letters = es.search(index=settings.deadletter_index, size=10)["hits"]["hits"]
    assert len(letters) == 2
    for letter in letters:
        text = json.dumps({k: v for k, v in letter["_source"].items() if not k.startswith("raw_")})
        assert PASSWORD not in text, text
    for file in (state / "deadletter").iterdir():
        for line in file.read_text().splitlines():
            doc = json.loads(line)
            assert PASSWORD not in json.dumps({k: v for k, v in doc.items() if not k.startswith("raw_")})


def test_a_wrong_ca_is_reported_as_a_certificate_problem(secure_node, tmp_path):
    import certifi

    password = secure_node["password"]["pipeline"]
    url = secure_node["url"].replace("https://", f"https://mfa-pipeline:{password}@")
    done = run_cli("ingest", SAMPLE_DUMPS, "--json", MFA_ES_URL=url, MFA_ES_CA_CERTS=certifi.where(),
                   MFA_STATE_DIR=tmp_path, MFA_ES_RETRY_WINDOW=1)
    assert done.returncode == 3, done.stderr
    assert_printed_nowhere(password, done, tmp_path)
    assert "certificate" in done.stderr and "MFA_ES_CA_CERTS" in done.stderr, done.stderr
    assert "start it" not in done.stderr and "unreachable" not in done.stderr
    assert json.loads(done.stdout)["kind"] == "tls_error"



# --- roles: the writer cannot escalate, the reader reads only the project's indices ----------

def as_user(node, user: str):
    from elasticsearch import Elasticsearch

    return Elasticsearch(node["url"], ca_certs=str(node["ca"]), basic_auth=(f"mfa-{user}", node["password"][user]))


def forbidden(call) -> None:
    from elasticsearch import AuthorizationException

    with pytest.raises(AuthorizationException):
        call()


def test_the_writer_cannot_escalate(secure_node, admin):
    outside = f"payroll-{uuid.uuid4().hex[:6]}"
    admin.indices.create(index=outside)
    admin.index(index=outside, document={"salary": 1}, refresh=True)
    admin.options(ignore_status=400).indices.create(index="mfa-deadletter")
    writer = as_user(secure_node, "pipeline")
    try:
        # a template over another pattern that would add our alias to an administrator's next index
        forbidden(lambda: writer.indices.put_index_template(
            name="steal", index_patterns=["payroll-*"], template={"aliases": {"mfa-transcripts-stolen": {}}}))
        forbidden(lambda: writer.indices.put_index_template(name="mfa-own", index_patterns=["mfa-transcripts-x*"]))
        # an alias over an index outside the project's patterns, under a name inside them
        forbidden(lambda: writer.indices.put_alias(index=outside, name="mfa-transcripts-stolen"))
        forbidden(lambda: writer.indices.update_aliases(
            actions=[{"add": {"index": outside, "alias": "mfa-transcripts-stolen"}}]))
        forbidden(lambda: writer.indices.create(index="other-index"))  # an index outside the patterns
        forbidden(lambda: writer.index(index=outside, document={"salary": 2}))
        forbidden(lambda: writer.search(index=outside))
        forbidden(lambda: writer.indices.delete(index="mfa-deadletter"))  # the dead letters stay
    finally:
        writer.close()
        admin.indices.delete(index=outside)
        for name in ("steal", "mfa-own"):  # what the writer made on a node with the old role
            admin.options(ignore_status=404).indices.delete_index_template(name=name)


def test_the_reader_reads_only_the_project_indices(secure_node, admin):
    """Nothing outside the patterns, named or through a wildcard. (An alias an administrator puts
    inside the patterns is readable: Elasticsearch grants by the name asked; the writer can no
    longer make one, test_the_writer_cannot_escalate.)"""
    outside = f"payroll-{uuid.uuid4().hex[:6]}"
    admin.indices.create(index=outside)
    admin.index(index=outside, document={"salary": 1}, refresh=True)
    ledger = f"mfa-crawl-state-{uuid.uuid4().hex[:6]}"
    admin.indices.create(index=ledger)
    reader = as_user(secure_node, "reader")
    try:
        forbidden(lambda: reader.search(index=outside))
        assert reader.options(ignore_status=404).search(index="*", query={"exists": {"field": "salary"}},
                                                         ignore_unavailable=True)["hits"]["total"]["value"] == 0
        forbidden(lambda: reader.search(index=ledger))  # the ledger is the pipeline's, not analysts'
        forbidden(lambda: reader.indices.create(index="mfa-transcripts-new"))
        forbidden(lambda: reader.index(index="mfa-transcripts-new", document={"x": 1}))
    finally:
        reader.close()
        admin.indices.delete(index=f"{outside},{ledger}")
