"""WARC writing (rotation, request+response, hints) and reading (ours and wget's)."""

from __future__ import annotations

import gzip
import shutil
import subprocess
from pathlib import Path

from pipeline.context import RunContext
from pipeline.context import hosts_of
from pipeline.crawl.fetch import FetchResult, Fetcher
from pipeline.context import get_profile
from pipeline.model.records import Failure, ListingHints, Page
from pipeline.sources.warc import iter_warc
from pipeline.crawl.warcwriter import WarcStore
from mfa_replica.content import CURRENT_EN
from warcio.archiveiterator import ArchiveIterator

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "warc" / "wget-replica.warc.gz"


def test_every_exchange_is_written_and_read_back(replica, replica_settings, tmp_path):
    profile = get_profile()
    store = WarcStore(tmp_path / "warc", max_bytes=20_000)
    hosts = hosts_of([replica.base_url], profile.site.hosts)
    with Fetcher(RunContext.build(replica_settings), allowed_hosts=hosts, recorder=lambda r: store.record(r, ListingHints(title="from listing"))) as f:
        f.get(replica.base_url + CURRENT_EN)
        results = [f.get(replica.base_url + CURRENT_EN + ident + "/") for ident in ("1785001", "1785002", "1785003")]
        fetched = {r.url: r.content for r in results}
        assert f.get(results[0].url, etag=results[0].etag).not_modified  # a 304 is archived too
    store.close()
    assert len(store.files) > 1, "small max_bytes rotates the files"
    types = []
    for path in store.files:
        with path.open("rb") as fh:
            types += [(r.rec_type, r.http_headers.get_statuscode() if r.rec_type == "response" else None)
                      for r in ArchiveIterator(fh)]
    # robots.txt, the listing, three articles, one 304: six exchanges, each a request and a response
    assert types.count(("request", None)) == 6
    assert types.count(("response", "200")) == 5 and types.count(("response", "304")) == 1
    assert types.count(("warcinfo", None)) == len(store.files)
    pages = [p for p in iter_warc(store.files, profile=profile)]
    assert all(isinstance(p, Page) for p in pages)
    assert {p.url: p.content for p in pages} == fetched  # listing page and robots.txt left out
    assert pages[0].hints == ListingHints(title="from listing")
    assert pages[0].fetched_at is not None


def test_content_encoding_is_kept_on_the_wire_and_undone_on_read(tmp_path):
    body = "<html><body><p>Сжатая страница</p></body></html>".encode()
    raw = gzip.compress(body)
    result = FetchResult(url="https://mid.ru/en/press_service/minister_speeches/42/", status=200, reason="OK",
                         http_version="HTTP/1.1",
                         headers=[("Content-Type", "text/html; charset=utf-8"), ("Content-Encoding", "gzip"),
                                  ("Transfer-Encoding", "chunked")],
                         request_headers=[("Host", "mid.ru")], content=body, raw_body=raw)
    with WarcStore(tmp_path) as store:
        store.record(result)
    (page,) = list(iter_warc(store.files, profile=get_profile()))
    assert page.content == body


def test_wget_warc_of_the_replica_is_read(replica, tmp_path):
    """A WARC written by ``wget --warc-file``: made now when wget is here, else the committed one."""
    wget = shutil.which("wget")
    if wget:
        subprocess.run([wget, "-r", "-l", "2", "-np", "-q", f"--warc-file={tmp_path / 'wget'}", "-P",
                        str(tmp_path / "mirror"), replica.base_url + CURRENT_EN], check=True, timeout=60)
        warc = tmp_path / "wget.warc.gz"
    else:
        warc = FIXTURE
    for path in {warc, FIXTURE}:
        pages = list(iter_warc(path, profile=get_profile()))
        # wget also follows the items' ?lang= links (the same ids in other languages)
        assert {p.url.split("?")[0].rsplit("/", 2)[-2] for p in pages} == {"1785001", "1785002", "1785003"}
        assert all(b'class="photo-content__title"' in p.content for p in pages)


def test_missing_or_broken_warc_is_a_failure(tmp_path):
    broken = tmp_path / "broken.warc.gz"
    broken.write_bytes(b"this is not a warc file at all")
    items = list(iter_warc([tmp_path / "missing.warc.gz", broken]))
    assert [type(i) for i in items] == [Failure, Failure]
    assert "does not exist" in items[0].reason and "not a WARC file" in items[1].reason


def test_a_challenge_archived_in_place_of_an_article_is_a_blocked_input(tmp_path):
    """A crawl's WARC holds every answer, the F5/TSPD challenge served for an article too.
    Replayed, it is counted ``blocked`` with the challenge named, as the crawl counts it,
    never a record, and never a validation refusal of a page with no date."""
    from pipeline.ingest import transform
    from mfa_replica.pages import CHALLENGE

    profile = get_profile()
    url = "https://mid.ru/en/press_service/minister_speeches/1785001/"
    with WarcStore(tmp_path) as store:
        store.record(FetchResult(url=url, status=200, reason="OK", http_version="HTTP/1.1",
                                 headers=[("Content-Type", "text/html; charset=utf-8")],
                                 request_headers=[("Host", "mid.ru")], content=CHALLENGE.encode(),
                                 raw_body=CHALLENGE.encode()))
    (outcome,) = list(transform(iter_warc(store.files, profile=profile), profile))
    assert isinstance(outcome, Failure) and outcome.url == url
    assert outcome.kind == "blocked"
    assert "anti-bot challenge" in outcome.reason and "/TSPD/" in outcome.reason
    assert outcome.raw == CHALLENGE.encode()  # kept, as every failed input is


def test_an_article_that_fails_keeps_its_own_reason_whatever_its_noscript_says():
    """The layout's container makes it the page asked for, as in the crawl: a stray marker
    in a <noscript> does not turn its own failure into a challenge."""
    from pipeline.ingest import extract_or_failure

    page = (b'<html><head><script src="/app.js"></script></head><body><noscript>Please enable JavaScript'
            b'</noscript><div class="photo-content"><h1 class="photo-content__title">Statement</h1>'
            b'<div class="text article-content"><p>Photos</p></div></div></body></html>')
    outcome = extract_or_failure(Page(source="p", url="https://mid.ru/en/foreign_policy/news/1785002/",
                                      content=page, content_type="text/html"), get_profile())
    assert isinstance(outcome, Failure) and outcome.kind != "blocked" and "challenge" not in outcome.reason
