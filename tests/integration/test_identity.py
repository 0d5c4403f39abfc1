"""One document per transcript and language, whatever path or input brought it; every
text it ever had kept in its history."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.ingest import ingest, ingest_archive
from pipeline.records import Page
from pipeline.settings import REPO_ROOT
from tests.conftest import SAMPLE_DUMPS

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
    report = ingest([page(url, EN) for url in paths] + [page(f"https://mid.ru/en/foreign_policy/news/{ARTICLE}/?lang=ru", RU)],
                    settings=settings)
    assert report.read == report.outcomes == 5 and report.failed == 0, report.summary_lines()
    docs = documents(es, settings.index_alias)
    assert sorted(d["language"] for d in docs) == ["en", "ru"]
    assert {d["event_id"] for d in docs} == {f"mid:{ARTICLE}"}
    assert report.new == 2 and report.superseded + report.unchanged == 3


def test_a_dump_then_a_crawl_of_the_same_transcript_is_one_document_with_both_sources(es, settings, replica,
                                                                                     tmp_path):
    """Before: a saved page has no URL, so saved pages then a crawl indexed the same transcripts twice."""
    import urllib.request

    from pipeline.crawl.crawler import run_crawl
    from pipeline.profile import get_profile
    from tests.replica.plugin import replica_overrides

    # pages of the site saved without their URL, as an old scrape keeps them
    saved = tmp_path / "saved"
    saved.mkdir()
    current = [a for a in replica.live_articles() if a.site == "current" and a.language == "en"][:3]
    for n, article in enumerate(current):
        with urllib.request.urlopen(replica.article_url(article), timeout=10) as resp:
            (saved / f"page-{n}.html").write_bytes(resp.read())
    dumps = ingest_archive(saved, settings=settings)
    assert dumps.new == len(current) == 3
    es.indices.refresh(index=settings.index_alias)
    crawl = run_crawl(settings.model_copy(update=replica_overrides(replica)), get_profile())
    assert crawl.failed == 0, crawl.summary_lines()
    docs = documents(es, settings.index_alias)
    keys = [d["match_key"] for d in docs]
    assert len(keys) == len(set(keys)), "one document per transcript"
    both = [d for d in docs if any(s.endswith(".html") for s in d["sources"]) and d.get("event_id")]
    assert len(both) == len(current), "the crawled documents took the saved pages over"
    for doc in both:
        assert any(s.startswith("http") for s in doc["sources"]) and doc["urls"]
    # and the other way round: the saved pages again join the crawled documents
    again = ingest_archive(saved, settings=settings)
    assert again.new == 0 and again.read == again.outcomes
    assert len(documents(es, settings.index_alias)) == len(docs)


def test_an_edit_keeps_both_versions_in_history_and_an_old_replay_never_wins(es, settings):
    url = f"https://mid.ru/en/foreign_policy/news/{ARTICLE}/"
    first_at = datetime(2022, 6, 9, 12, 0, tzinfo=timezone.utc)
    edited = EN.replace(b"We expect concrete results.", b"We expect concrete results and a new round in July.")
    assert edited != EN
    ingest([page(url, EN, first_at)], settings=settings)
    later = ingest([page(url, edited, first_at + timedelta(days=1))], settings=settings)
    assert later.updated == 1
    stale = ingest([page(url, EN, first_at - timedelta(days=1))], settings=settings)  # replay of an older WARC
    assert stale.superseded == 1 and stale.read == stale.outcomes

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
