"""Storage by URL (pipeline/storage.py): WARC output, dead letters and archive inputs anywhere fsspec reaches.

``memory://`` is fsspec's in-process filesystem: a real non-local store, standing in
for s3:// (which needs the network); ``file://`` is a shared local path.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone

import fsspec
import pytest

from pipeline.crawl.fetch import FetchResult
from pipeline.crawl.warcwriter import WarcStore
from pipeline.jobs.backfill import archive_partitions
from pipeline.context import get_profile
from pipeline.model.records import Failure, Page
from pipeline.settings import Settings
from pipeline.sources.warc import expand_archive_inputs, iter_warc
from pipeline.store.deadletter import DeadLetterFile

BODY = "<html><body><h1>A transcript</h1><p>Хороший текст.</p></body></html>".encode()


def exchange(n: int) -> FetchResult:
    return FetchResult(url=f"https://mid.ru/en/press_service/minister_speeches/{n}/", status=200, reason="OK",
                       http_version="HTTP/1.1", headers=[("Content-Type", "text/html; charset=utf-8")],
                       request_headers=[("Host", "mid.ru")], content=BODY, raw_body=BODY,
                       fetched_at=datetime(2026, 1, 2, tzinfo=timezone.utc))


@pytest.fixture
def bucket():
    root = f"memory://mfa-test-{uuid.uuid4().hex[:8]}"
    yield root
    fs = fsspec.filesystem("memory")
    if fs.exists(root):
        fs.rm(root, recursive=True)


def test_warc_files_written_to_a_url_are_read_back_and_partitioned_from_it(bucket):
    fs = fsspec.filesystem("memory")
    with WarcStore(f"{bucket}/warc", max_bytes=1) as store:  # rotate after every exchange
        for n in (1, 2):
            store.record(exchange(n))
    assert len(store.files) == 2 and all(str(f).startswith(f"{bucket}/warc/") for f in store.files)
    assert all(fs.isfile(str(f)) for f in store.files)
    inputs = expand_archive_inputs([f"{bucket}/warc"])
    assert [(i.kind, str(i.path)) for i in inputs] == [("warc", str(f)) for f in store.files]
    assert [p["label"] for p in archive_partitions([f"{bucket}/warc"])] == [str(f).rsplit("/", 1)[-1] for f in store.files]
    pages = list(iter_warc([i.path for i in inputs], profile=get_profile()))
    assert all(isinstance(p, Page) for p in pages) and [p.content for p in pages] == [BODY, BODY]
    missing = list(iter_warc([f"{bucket}/warc/none.warc.gz"]))
    assert isinstance(missing[0], Failure) and "does not exist" in missing[0].reason


def test_dead_letters_go_to_a_url_whole_after_each_failure(bucket):
    dead = DeadLetterFile(f"{bucket}/deadletter", "run")
    for n in (1, 2):
        dead.write(Failure(source=f"page-{n}", stage="extract", reason="no body", raw=b"<html>"))
    assert str(dead.path).startswith(f"{bucket}/deadletter/") and fsspec.filesystem("memory").isfile(dead.path)
    with fsspec.open(dead.path, "r") as fh:
        lines = [json.loads(line) for line in fh]
    assert [d["source"] for d in lines] == ["page-1", "page-2"]


def test_file_urls_and_plain_paths_are_the_same_local_folder(tmp_path):
    settings = Settings(state_dir=tmp_path / "state", warc_url=(tmp_path / "shared" / "warc").as_uri(),
                        deadletter_url=f"file://{tmp_path}/shared/dead")
    with WarcStore(settings.warc_dir) as store:
        store.record(exchange(3))
    assert [f.parent for f in store.files] == [tmp_path / "shared" / "warc"]
    dead = DeadLetterFile(settings.deadletter_dir, "run")
    dead.write(Failure(source="x", stage="extract", reason="r"))
    dead.write(Failure(source="y", stage="extract", reason="r"))
    assert dead.path.parent == tmp_path / "shared" / "dead" and len(dead.path.read_text().splitlines()) == 2
    assert Settings(state_dir=tmp_path).warc_dir == tmp_path / "warc"  # the default is unchanged


def test_text_dump_folders_are_read_from_a_url_like_a_local_folder(bucket):
    """A backfill partition of dumps runs on any worker: the folder may be a URL, nested or not."""
    from pipeline.sources.archive import archive_pages
    from tests.conftest import SAMPLE_DUMPS

    fs = fsspec.filesystem("memory")
    local = sorted(p for p in SAMPLE_DUMPS.iterdir() if p.is_file())
    for n, path in enumerate(local):
        fs.pipe(f"{bucket}/dumps/{'nested/' if n % 2 else ''}{path.name}", path.read_bytes())
    fs.pipe(f"{bucket}/dumps/.hidden", b"not a page")

    pages = list(archive_pages([f"{bucket}/dumps"], max_bytes=10_000_000))
    assert all(isinstance(p, Page) for p in pages), pages
    assert sorted(p.content for p in pages) == sorted(p.read_bytes() for p in local)
    assert all(p.source.startswith(f"{bucket}/dumps/") for p in pages)

    big = max(local, key=lambda p: p.stat().st_size)
    (too_big,) = archive_pages([f"{bucket}/dumps/{'nested/' if local.index(big) % 2 else ''}{big.name}"],
                               max_bytes=big.stat().st_size - 1)
    assert isinstance(too_big, Failure) and "over the" in too_big.reason
    (missing,) = archive_pages([f"{bucket}/nowhere"], max_bytes=10_000_000)
    assert isinstance(missing, Failure) and missing.reason == "input folder does not exist"
