"""`mfa-ingest redrive`: dead letters back through the ingest path, each marked resolved."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from typer.testing import CliRunner

from pipeline.context import RunContext
from pipeline.cli import app
from pipeline.crawl.crawler import run_crawl
from pipeline.ingest import ingest_archive
from pipeline.context import get_profile
from pipeline.jobs.redrive import redrive
from pipeline.store import design
from tests.conftest import SAMPLE_DUMPS, assert_accounted
from tests.replica.plugin import replica_overrides


def letters(es, settings) -> list[dict]:
    es.indices.refresh(index=settings.deadletter_index)
    return [h["_source"] for h in es.search(index=settings.deadletter_index, size=100)["hits"]["hits"]]


def count(es, alias) -> int:
    es.indices.refresh(index=alias)
    return es.count(index=alias)["count"]


def test_index_failures_are_redriven_from_their_inputs_once_writes_work(es, settings):
    alias = design.ensure_index(es, settings)
    concrete = design.write_index(es, alias)
    es.indices.put_settings(index=concrete, settings={"index.blocks.write": True})
    try:
        blocked = ingest_archive(RunContext.build(settings), SAMPLE_DUMPS)
    finally:
        es.indices.put_settings(index=concrete, settings={"index.blocks.write": None})
    assert blocked.failed == 5 and count(es, alias) == 0
    assert {d["stage"] for d in letters(es, settings)} == {"index"}

    result = redrive(RunContext.build(settings))
    assert result.report.new == 5
    assert_accounted(result.report)
    assert count(es, alias) == 5
    stored = letters(es, settings)
    assert all(d["resolved"] and d["resolution"] == "indexed (created)" for d in stored), stored
    again = CliRunner().invoke(app, ["redrive", "--json"], env={"MFA_INDEX_ALIAS": settings.index_alias,
                                                               "MFA_DEADLETTER_INDEX": settings.deadletter_index})
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["read"] == 0, "a resolved dead letter is not redriven again"


def test_a_failed_fetch_is_redriven_by_fetching_it_again(es, settings, replica):
    cs = settings.model_copy(update={**replica_overrides(replica), "crawl_max_retries": 0})
    victim = replica.article_url(replica.live_articles()[0])
    replica.add_fault("status", match=victim.rsplit("/", 2)[-2], count=1, arg=500)
    crawl = run_crawl(RunContext.build(cs, get_profile()))
    assert crawl.failed == 1
    (letter,) = letters(es, cs)
    assert letter["stage"] == "fetch" and letter["url"] == victim

    result = redrive(RunContext.build(cs))
    assert result.report.new == 1 and result.report.failed == 0, result.report.summary_lines()
    (letter,) = letters(es, cs)
    assert letter["resolved"] and letter["resolution"] == "indexed (created)"


def test_a_letter_naming_another_host_is_refused_by_the_guard_not_fetched(es, settings, replica):
    """The redrive fetches where the crawl may go (its base URLs and the profile's hosts): a letter
    whose URL names any other host fails at the network guard; it does not widen the guard."""
    cs = settings.model_copy(update={**replica_overrides(replica), "crawl_max_retries": 0})
    victim = replica.article_url(replica.live_articles()[0])
    replica.add_fault("status", match=victim.rsplit("/", 2)[-2], count=1, arg=500)
    assert run_crawl(RunContext.build(cs, get_profile())).failed == 1
    es.indices.refresh(index=cs.deadletter_index)
    (hit,) = es.search(index=cs.deadletter_index, size=10)["hits"]["hits"]
    elsewhere = urlsplit(victim)._replace(scheme="https", netloc="www.example.org").geturl()
    es.update(index=cs.deadletter_index, id=hit["_id"], doc={"url": elsewhere}, refresh=True)

    result = redrive(RunContext.build(cs))
    assert result.report.failed == 1 and result.report.new == 0
    assert dict(result.report.failures_by_kind) == {"refused": 1}, result.report.summary_lines()
    assert "example.org" in result.resolved[hit["_id"]]


def test_an_archived_challenge_is_redriven_by_fetching_its_page_again(es, settings, replica, tmp_path):
    """A challenge replayed from a WARC is a dead letter of class ``blocked``. Its bytes are the
    challenge, not the page, so redriving them could only fail again: the page is fetched."""
    from pipeline.crawl.fetch import FetchResult
    from pipeline.crawl.warcwriter import WarcStore
    from mfa_replica.pages import CHALLENGE

    cs = settings.model_copy(update=replica_overrides(replica))
    url = replica.article_url(replica.live_articles()[0])
    with WarcStore(tmp_path) as store:
        store.record(FetchResult(url=url, status=200, reason="OK", http_version="HTTP/1.1",
                                 headers=[("Content-Type", "text/html; charset=utf-8")], request_headers=[],
                                 content=CHALLENGE.encode(), raw_body=CHALLENGE.encode()))
    replay = ingest_archive(RunContext.build(cs), store.files)
    assert replay.failed == 1 and replay.failures_by_kind == {"blocked": 1}
    (letter,) = letters(es, cs)
    assert letter["kind"] == "blocked" and letter["url"] == url

    result = redrive(RunContext.build(cs))
    assert result.report.new == 1 and result.report.failed == 0, result.report.summary_lines()
    (letter,) = letters(es, cs)
    assert letter["resolved"] and letter["resolution"] == "indexed (created)"


def test_a_redrive_reads_the_dead_letters_without_creating_their_index(es, settings):
    """Only the run's failure sink creates the dead-letter index, once: listing the open letters
    only reads (it created the index as well before, so a redrive created it twice)."""
    from pipeline.store import deadletter

    assert not es.indices.exists(index=settings.deadletter_index)
    assert deadletter.open_dead_letters(es, settings) == []
    assert not es.indices.exists(index=settings.deadletter_index)
    result = redrive(RunContext.build(settings, es=es))
    assert result.resolved == {} and result.report.read == 0
    assert es.indices.exists(index=settings.deadletter_index)  # the failure sink's one creation


def test_a_corpus_row_is_not_redriven_without_its_columns(es, settings, tmp_path):
    """A row's dead letter keeps its text, not its columns (title, date, speaker): redriven from
    the text alone it would come back untitled and undated. It stays open, counted as skipped,
    until its file is ingested again (idempotent)."""
    corpus = tmp_path / "rows.csv"
    corpus.write_text('title,date,text\n"Remarks at the talks, Moscow, June 19, 2023",2023-06-19,'
                      '"We have held substantive talks and agreed on the next steps together."\n', encoding="utf-8")
    alias = design.ensure_index(es, settings)
    concrete = design.write_index(es, alias)
    es.indices.put_settings(index=concrete, settings={"index.blocks.write": True})
    try:
        blocked = ingest_archive(RunContext.build(settings), corpus)
    finally:
        es.indices.put_settings(index=concrete, settings={"index.blocks.write": None})
    assert blocked.failed == 1
    (letter,) = letters(es, settings)
    assert letter["stage"] == "index" and letter["source"].endswith("rows.csv#row1")

    result = redrive(RunContext.build(settings))
    assert result.skipped == 1 and result.resolved == {} and count(es, alias) == 0
    assert not letters(es, settings)[0].get("resolved")
    again = ingest_archive(RunContext.build(settings), corpus)
    assert again.new == 1
    es.indices.refresh(index=alias)
    (doc,) = [h["_source"] for h in es.search(index=alias)["hits"]["hits"]]
    assert doc["title"] == "Remarks at the talks, Moscow, June 19, 2023"


def test_a_letter_that_fails_again_for_the_same_reason_stays_open(es, settings, replica):
    """The same refusal of the same input has the same letter id: the failure written again by the
    redrive is that letter. It must stay open (redriven again later), counting its attempts, not be
    marked resolved over the failure just written: that would make the failure silent."""
    cs = settings.model_copy(update={**replica_overrides(replica), "crawl_max_retries": 0})
    victim = replica.article_url(replica.live_articles()[0])
    replica.add_fault("status", match=victim.rsplit("/", 2)[-2], count=2, arg=500)
    assert run_crawl(RunContext.build(cs, get_profile())).failed == 1
    (letter,) = letters(es, cs)

    result = redrive(RunContext.build(cs))
    assert result.report.failed == 1 and result.report.new == 0, result.report.summary_lines()
    assert_accounted(result.report)
    (again,) = letters(es, cs)
    assert not again.get("resolved"), again
    assert again["redrives"] == 1 and again["last_redrive"].startswith("failed again: "), again
    assert result.report.extra["failed_again"] == 1 and result.report.extra["redriven"] == 0

    third = redrive(RunContext.build(cs))  # the fault is spent: the page is fetched and indexed
    assert third.report.new == 1, third.report.summary_lines()
    (done,) = letters(es, cs)
    assert done["resolved"] and done["resolution"] == "indexed (created)" and done["redrives"] == 2
