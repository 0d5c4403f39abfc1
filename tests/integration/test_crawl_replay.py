"""`mfa-ingest replay`: the crawl's WARC, and a WARC made by wget, rebuild the same index."""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.context import RunContext
from pipeline.cli import app
from pipeline.crawl.crawler import run_crawl
from pipeline.context import get_profile
from pipeline.context import get_settings
from tests.conftest import assert_accounted, delete_indices_like
from mfa_replica.content import CURRENT_EN

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "warc" / "wget-replica.warc.gz"


@pytest.fixture
def crawl_settings(crawl_settings, monkeypatch):
    monkeypatch.setenv("MFA_STATE_DIR", str(crawl_settings.state_dir))
    get_settings.cache_clear()
    yield crawl_settings
    get_settings.cache_clear()


@pytest.fixture
def other_alias(es):
    alias = f"mfa-test-{uuid.uuid4().hex[:10]}"
    yield alias
    delete_indices_like(es, alias)


def ids_and_hashes(es, alias) -> dict[str, str]:
    es.indices.refresh(index=alias)
    hits = es.search(index=alias, size=1000, source_includes=["content_hash"])["hits"]["hits"]
    return {h["_id"]: h["_source"]["content_hash"] for h in hits}


def replay_cli(*args: str):
    result = CliRunner().invoke(app, ["replay", *args, "--json"])
    assert result.exit_code == 0, result.output
    return result


def test_replay_of_the_crawl_warc_rebuilds_the_same_index(es, crawl_settings, replica, other_alias):
    replica.add_fault("status", "1785002", count=1, arg=503)  # a retried exchange is archived too
    crawl = run_crawl(RunContext.build(crawl_settings, get_profile()))
    replica.edit_article()
    run_crawl(RunContext.build(crawl_settings, get_profile()))  # a second version of one page in the archive
    crawled = ids_and_hashes(es, crawl_settings.index_alias)
    assert len(crawled) == crawl.new == 17

    warcs = sorted(crawl_settings.warc_dir.glob("*.warc.gz"))
    assert len(warcs) >= 2
    replay_cli(str(crawl_settings.warc_dir), "--index", other_alias)
    assert ids_and_hashes(es, other_alias) == crawled


def test_wget_warc_of_the_replica_replays(es, crawl_settings, replica, other_alias, tmp_path):
    wget = shutil.which("wget")
    run_crawl(RunContext.build(crawl_settings, get_profile()), sections=["minister_speeches"], languages=["en"])
    crawled = ids_and_hashes(es, crawl_settings.index_alias)
    if wget:
        subprocess.run([wget, "-r", "-l", "2", "-np", "-q", f"--warc-file={tmp_path / 'wget'}",
                        "-P", str(tmp_path / "mirror"), replica.base_url + CURRENT_EN], check=True, timeout=60)
        replay_cli(str(tmp_path / "wget.warc.gz"), "--index", other_alias)
        # wget also took the ?lang= versions (other ids until identity folding, issue 9)
        assert crawled.items() <= ids_and_hashes(es, other_alias).items()
    else:  # no wget on this machine: the committed WARC wget made of the replica
        replay_cli(str(FIXTURE), "--index", other_alias)
        assert sorted(ids_and_hashes(es, other_alias).values()) == sorted(crawled.values())


def test_a_warc_of_foreign_policy_news_replays_with_every_record_accounted_for(es, crawl_settings, replica,
                                                                                other_alias):
    """The earlier profile read 0 records of /en/foreign_policy/news/<id>/ and said nothing about them."""
    from warcio.archiveiterator import ArchiveIterator

    from pipeline.ingest import ingest_archive
    from pipeline.report import RunReport

    run_crawl(RunContext.build(crawl_settings, get_profile()), sections=["news"])
    warcs = sorted(crawl_settings.warc_dir.glob("*.warc.gz"))
    total = 0
    for path in warcs:
        with path.open("rb") as fh:
            total += sum(1 for _ in ArchiveIterator(fh))
    said: list[str] = []
    report = ingest_archive(RunContext.build(crawl_settings, get_profile(), report=RunReport(name="replay")), warcs, index=other_alias, echo=said.append)
    assert report.new == 2 and report.failed == 0  # the news transcript in English and in Russian
    assert_accounted(report)
    skipped = {k: v for k, v in report.extra.items() if k.startswith("skipped: ")}
    assert report.read + report.failed + report.extra["warc_records_skipped"] == total
    assert sum(skipped.values()) == report.extra["warc_records_skipped"]
    # The crawl's own robots.txt, listing pages and feeds are expected in its archive: named as such,
    # with no advice to add a section (there is none to add).
    assert skipped["skipped: robots.txt (expected, not an article)"] >= 1
    assert skipped["skipped: listing page (expected, not an article)"] >= 2
    assert skipped["skipped: feed (expected, not an article)"] >= 1
    assert "skipped: not an article URL" not in skipped
    assert not any("add the section" in line for line in said), said

    # --any-url takes every HTML page of the site's hosts: the listing pages too (and refuses them loudly).
    anyurl = ingest_archive(RunContext.build(crawl_settings, get_profile(), report=RunReport(name="replay")), warcs, index=other_alias, any_url=True, echo=said.append)
    assert anyurl.read > report.read
    assert_accounted(anyurl)
    assert anyurl.read + anyurl.extra["warc_records_skipped"] == total


def test_a_replayed_old_portal_page_gets_its_section_from_its_url(es, crawl_settings, replica, other_alias,
                                                                  tmp_path):
    """The old portal prints no section line: a replay (no listing hint) gave its pages the kind of
    their URL's section and no section, and `stats --by section` counted them as unknown."""
    from warcio.archiveiterator import ArchiveIterator
    from warcio.warcwriter import WARCWriter

    from pipeline.sources.warc import HINTS_HEADER

    run_crawl(RunContext.build(crawl_settings, get_profile()), sections=["archive_minister_speeches"],
              languages=["en"])
    # another tool's WARC of the same pages: ours without the listing hints
    foreign = tmp_path / "foreign.warc.gz"
    with foreign.open("wb") as out:
        writer = WARCWriter(out, gzip=True)
        for path in sorted(crawl_settings.warc_dir.glob("*.warc.gz")):
            with path.open("rb") as fh:
                for record in ArchiveIterator(fh):
                    record.rec_headers.remove_header(HINTS_HEADER)
                    writer.write_record(record)
    replay_cli(str(foreign), "--index", other_alias)
    es.indices.refresh(index=other_alias)
    hits = es.search(index=other_alias, size=100, source_includes=["section", "kind"])["hits"]["hits"]
    assert hits and {(h["_source"]["section"], h["_source"]["kind"]) for h in hits} == {
        ("archive_minister_speeches", "speech")}
    result = CliRunner().invoke(app, ["stats", "--by", "section", "--index", other_alias, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["buckets"] == {"Minister's speeches": len(hits)}
