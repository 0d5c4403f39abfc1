"""Storage by URL over the S3 protocol: s3fs (pinned, what production uses) against a local S3 server.

The server is moto's (an S3 API implementation on 127.0.0.1); the pipeline sees it only
through fsspec's configuration, as it would see MinIO or AWS itself (docs/deployment.md).
The tests exercise what differs from a local folder: no append, folders that exist only
as key prefixes, listings that are eventually whole files.
"""

from __future__ import annotations

import json
import socket
import uuid
from datetime import datetime, timezone

import fsspec
import pytest

from pipeline.context import RunContext
from pipeline.crawl.fetch import FetchResult
from pipeline.crawl.warcwriter import WarcStore
from pipeline.ingest import ingest_archive
from pipeline.jobs.backfill import archive_partitions
from pipeline.model.records import Failure, Page
from pipeline.sources.archive import archive_pages
from pipeline.store.deadletter import DeadLetterFile
from tests.conftest import SAMPLE_DUMPS


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def s3_server():
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def bucket(s3_server, monkeypatch):
    """A fresh bucket; s3fs pointed at the local server as an operator would point it at MinIO."""
    import s3fs

    for name, value in (("AWS_ACCESS_KEY_ID", "test"), ("AWS_SECRET_ACCESS_KEY", "test"),
                        ("AWS_DEFAULT_REGION", "us-east-1")):
        monkeypatch.setenv(name, value)
    monkeypatch.setitem(fsspec.config.conf, "s3", {"endpoint_url": s3_server})
    s3fs.S3FileSystem.clear_instance_cache()
    name = f"mfa-{uuid.uuid4().hex[:10]}"
    fsspec.filesystem("s3").mkdir(name)
    yield f"s3://{name}"
    s3fs.S3FileSystem.clear_instance_cache()


def _exchange(n: int, body: bytes) -> FetchResult:
    return FetchResult(url=f"https://mid.ru/en/press_service/minister_speeches/{n}/", status=200, reason="OK",
                       http_version="HTTP/1.1", headers=[("Content-Type", "text/html; charset=utf-8")],
                       request_headers=[("Host", "mid.ru")], content=body, raw_body=body,
                       fetched_at=datetime(2026, 1, 2, tzinfo=timezone.utc))


def test_warc_files_and_dead_letters_round_trip_through_s3(bucket):
    bodies = [f"<html><body><h1>Transcript {n}</h1><p>Текст {n}.</p></body></html>".encode() for n in (1, 2, 3)]
    with WarcStore(f"{bucket}/warc", max_bytes=1) as store:  # one file per exchange
        for n, body in enumerate(bodies, 1):
            store.record(_exchange(n, body))
    assert len(store.files) == 3 and all(str(f).startswith(f"{bucket}/warc/") for f in store.files)
    partitions = archive_partitions([f"{bucket}/warc"])
    assert [p["path"] for p in partitions] == sorted(str(f) for f in store.files)
    pages = list(archive_pages([p["path"] for p in partitions], max_bytes=1_000_000))
    assert [p.content for p in pages] == bodies and all(isinstance(p, Page) for p in pages)

    dead = DeadLetterFile(f"{bucket}/deadletter", "run")
    for n in (1, 2, 3):  # S3 cannot append: each write must leave the whole file
        dead.write(Failure(source=f"page-{n}", stage="extract", reason="no body"))
    with fsspec.open(str(dead.path), "r") as fh:
        assert [json.loads(line)["source"] for line in fh] == ["page-1", "page-2", "page-3"]


def test_a_dump_folder_in_a_bucket_is_ingested_with_its_urls_as_sources(es, settings, bucket):
    fs = fsspec.filesystem("s3")
    local = sorted(p for p in SAMPLE_DUMPS.iterdir() if p.is_file())
    for n, path in enumerate(local):
        fs.pipe(f"{bucket}/dumps/{'2021/' if n % 2 else ''}{path.name}", path.read_bytes())

    remote = ingest_archive(RunContext.build(settings), [f"{bucket}/dumps"])
    assert remote.read == len(local) and remote.failed == 0, remote.summary_lines()
    es.indices.refresh(index=settings.index_alias)
    hits = es.search(index=settings.index_alias, size=100, source=["sources"])["hits"]["hits"]
    assert len(hits) == remote.new and remote.new > 0
    assert all(s.startswith(f"{bucket}/dumps/") for h in hits for s in h["_source"]["sources"])

    again = ingest_archive(RunContext.build(settings), [str(p) for p in local])  # the same files, local: same documents
    assert again.new == 0 and again.failed == 0, again.summary_lines()
