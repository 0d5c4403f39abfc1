"""One document per transcript and language, whatever path or input brought it; every
text it ever had kept in its history."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from typer.testing import CliRunner

from pipeline.context import RunContext
from pipeline.cli import app
from pipeline.ingest import ingest, ingest_archive
from pipeline.model.records import Page
from pipeline.settings import REPO_ROOT
from tests.conftest import SAMPLE_DUMPS, assert_accounted

EVAL = REPO_ROOT / "pipeline" / "data" / "eval"
EN = (EVAL / "current_en.html").read_bytes()
RU = (EVAL / "current_ru_leaky.html").read_bytes()
ARTICLE = "1817060"


def documents(es, alias) -> list[dict]:
    es.indices.refresh(index=alias)
    return [{**h["_source"], "_id": h["_id"]} for h in es.search(index=alias, size=100)["hits"]["hits"]]


def page(url: str, content: bytes, fetched_at: datetime | None = None) -> Page:
    return Page(source=url, url=url, content=content, fetched_at=fetched_at)


def test_one_article_by_four_paths_and_its_russian_version_is_two_documents_sharing_an_event(es, settings):
    """Before: each path (section, language prefix, tracking parameter) became its own document."""
    paths = [f"https://mid.ru/en/press_service/minister_speeches/{ARTICLE}/",
             f"https://mid.ru/en/foreign_policy/news/{ARTICLE}/",
             f"https://mid.ru/pt/foreign_policy/news/{ARTICLE}/?lang=en",
             f"https://www.mid.ru/en/foreign_policy/news/{ARTICLE}/?utm_source=telegram"]
    report = ingest(RunContext.build(settings), [page(url, EN) for url in paths] + [page(f"https://mid.ru/en/foreign_policy/news/{ARTICLE}/?lang=ru", RU)])
    assert report.read == 5 and report.failed == 0, report.summary_lines()
    assert_accounted(report)
    docs = documents(es, settings.index_alias)
    assert sorted(d["language"] for d in docs) == ["en", "ru"]
    assert {d["event_id"] for d in docs} == {f"mid:{ARTICLE}"}
    assert report.new == 2 and report.superseded + report.unchanged == 3


def test_a_dump_then_a_crawl_of_the_same_transcript_is_one_document_with_both_sources(es, settings, replica,
                                                                                     tmp_path):
    """Before: a saved page has no URL, so saved pages then a crawl indexed the same transcripts twice."""
    import urllib.request

    from pipeline.crawl.crawler import run_crawl
    from pipeline.context import get_profile
    from tests.replica.plugin import replica_overrides

    # pages of the site saved without their URL, as an old scrape keeps them
    saved = tmp_path / "saved"
    saved.mkdir()
    current = [a for a in replica.live_articles() if a.site == "current" and a.language == "en"][:3]
    for n, article in enumerate(current):
        with urllib.request.urlopen(replica.article_url(article), timeout=10) as resp:
            (saved / f"page-{n}.html").write_bytes(resp.read())
    dumps = ingest_archive(RunContext.build(settings), saved)
    assert dumps.new == len(current) == 3
    es.indices.refresh(index=settings.index_alias)
    crawl = run_crawl(RunContext.build(settings.model_copy(update=replica_overrides(replica)), get_profile()))
    assert crawl.failed == 0, crawl.summary_lines()
    docs = documents(es, settings.index_alias)
    keys = [d["match_key"] for d in docs]
    assert len(keys) == len(set(keys)), "one document per transcript"
    both = [d for d in docs if any(s.endswith(".html") for s in d["sources"]) and d.get("event_id")]
    assert len(both) == len(current), "the crawled documents took the saved pages over"
    for doc in both:
        assert any(s.startswith("http") for s in doc["sources"]) and doc["urls"]
    # and the other way round: the saved pages again join the crawled documents
    again = ingest_archive(RunContext.build(settings), saved)
    assert again.new == 0 and again.read == again.outcomes
    assert len(documents(es, settings.index_alias)) == len(docs)


def test_an_edit_keeps_both_versions_in_history_and_an_old_replay_never_wins(es, settings):
    url = f"https://mid.ru/en/foreign_policy/news/{ARTICLE}/"
    first_at = datetime(2022, 6, 9, 12, 0, tzinfo=timezone.utc)
    edited = EN.replace(b"We expect concrete results.", b"We expect concrete results and a new round in July.")
    assert edited != EN
    ingest(RunContext.build(settings), [page(url, EN, first_at)])
    later = ingest(RunContext.build(settings), [page(url, edited, first_at + timedelta(days=1))])
    assert later.updated == 1
    stale = ingest(RunContext.build(settings), [page(url, EN, first_at - timedelta(days=1))])  # replay of an older WARC
    assert stale.superseded == 1
    assert_accounted(stale)

    (doc,) = documents(es, settings.index_alias)
    assert "a new round in July" in doc["body"] and doc["doc_version"] == 2
    assert doc["first_published"] and doc["last_changed"]
    done = CliRunner().invoke(app, ["history", url, "--json", "--index", settings.index_alias])
    assert done.exit_code == 0, done.output
    versions = [json.loads(line) for line in done.stdout.splitlines()]
    assert [v["doc_version"] for v in versions] == [1, 2]
    assert "a new round in July" not in versions[0]["body"] and "a new round in July" in versions[1]["body"]


def test_ingest_into_a_new_target_gets_the_index_design(es, settings, index_alias):
    """Before: `ingest --index NEW` let Elasticsearch auto-create NEW (dynamic mapping, turns not nested)."""
    target = f"{index_alias}-new"
    done = CliRunner().invoke(app, ["ingest", str(SAMPLE_DUMPS), "--index", target])
    assert done.exit_code == 0, done.output
    assert es.indices.exists_alias(name=target)
    mapping = es.indices.get_mapping(index=f"{target}-v1")[f"{target}-v1"]["mappings"]
    assert mapping["dynamic"] == "strict" and mapping["properties"]["turns"]["type"] == "nested"


# --- a dump and a crawled page of the same transcript written at the same time -----------------

WARC = REPO_ROOT / "tests" / "fixtures" / "warc" / "wget-replica.warc.gz"


def _expected_transcripts(settings, *inputs) -> dict[str, set[str]]:
    """match key -> sources of every input that gives that transcript (read from the inputs, not assumed)."""
    from pipeline.ingest import extract_or_failure
    from pipeline.context import get_profile
    from pipeline.model.records import Transcript
    from pipeline.sources.archive import archive_pages

    profile = get_profile(settings.site_profile_path)
    found: dict[str, set[str]] = {}
    for path in inputs:
        for page in archive_pages(path, max_bytes=settings.max_page_bytes, profile=profile):
            record = extract_or_failure(page, profile) if isinstance(page, Page) else page
            assert isinstance(record, Transcript), record
            found.setdefault(record.match_key, set()).add(record.source)
    return found


def _assert_one_document_per_transcript(docs: list[dict], expected: dict[str, set[str]]) -> None:
    keys = [d["match_key"] for d in docs]
    assert sorted(keys) == sorted(expected), "one document per transcript"
    shared = {k for k, sources in expected.items() if len(sources) > 1}
    assert shared, "the inputs must hold a transcript twice (a dump and a crawled page)"
    for doc in docs:
        assert expected[doc["match_key"]] <= set(doc["sources"]), "no input's source lost"
        if doc["match_key"] in shared:
            assert doc.get("event_id") and doc["urls"], "the crawled document holds the transcript"


def test_a_dump_and_a_crawled_page_of_one_transcript_in_one_run_are_one_document(es, settings, tmp_path):
    """Before: within one bulk chunk neither input saw the other (the writer only looked at stored
    documents), so `ingest DUMPS WARC` indexed each shared transcript twice."""
    expected = _expected_transcripts(settings, SAMPLE_DUMPS, WARC)
    report = ingest_archive(RunContext.build(settings), [SAMPLE_DUMPS, WARC])
    assert report.failed == 0, report.summary_lines()
    assert_accounted(report)
    docs = documents(es, settings.index_alias)
    _assert_one_document_per_transcript(docs, expected)
    # one chunk: the run's closing pass folded every shared transcript
    assert report.extra.get("folded") == sum(1 for sources in expected.values() if len(sources) > 1)
    # the earliest publication is kept (a dump dates its transcript, a crawled page may give a later time)
    for doc in docs:
        assert doc["first_published"] <= doc["published_at"]


def test_a_dump_and_a_warc_ingested_at_the_same_time_leave_one_document_per_transcript(es, settings):
    """Before: the writer finds the other input's document by a search, which sees only refreshed
    documents; two runs at the same time (two Celery workers) each missed the other's write and
    the index kept two documents per shared transcript. A re-run must then change nothing."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from pipeline.store import design

    expected = _expected_transcripts(settings, SAMPLE_DUMPS, WARC)
    target = design.ensure_index(es, settings, alias=settings.index_alias)
    design.ensure_versions_index(es, settings, target)
    start = threading.Barrier(2)

    def run(path):
        start.wait()
        return ingest_archive(RunContext.build(settings), path)

    with ThreadPoolExecutor(max_workers=2) as pool:
        reports = list(pool.map(run, [SAMPLE_DUMPS, WARC]))
    assert all(r.failed == 0 and r.read == r.outcomes for r in reports), [r.summary_lines() for r in reports]
    docs = documents(es, settings.index_alias)
    _assert_one_document_per_transcript(docs, expected)

    with ThreadPoolExecutor(max_workers=2) as pool:
        again = list(pool.map(run, [SAMPLE_DUMPS, WARC]))
    assert sum(r.new + r.updated + r.failed for r in again) == 0, "\n".join(
        line for r in again for line in r.summary_lines())
    after = documents(es, settings.index_alias)
    assert sorted(after, key=lambda d: d["_id"]) == sorted(docs, key=lambda d: d["_id"]), "a re-run changed nothing"
