"""One name per person and event: stats --by speaker groups by the stored speaker id, --speaker
takes every stored id and any printed form, --event brings the language versions of an event
together; on the replica crawled into the index."""

from __future__ import annotations

import json

import pytest

from pipeline.context import RunContext, get_profile
from pipeline.crawl.crawler import run_crawl
from tests.integration.test_index_search import run_cli


@pytest.fixture
def crawled(es, crawl_settings, index_alias):
    report = run_crawl(RunContext.build(crawl_settings, get_profile()))
    assert report.failed == 0
    es.indices.refresh(index=index_alias)
    return crawl_settings


def speaker_ids(es, alias) -> dict[str, set[str]]:
    """Every stored speaker id with the printed names it was stored under (the truth, read back)."""
    out: dict[str, set[str]] = {}
    for hit in es.search(index=alias, size=1000, source=["turns"])["hits"]["hits"]:
        for turn in hit["_source"]["turns"]:
            if turn.get("speaker_id"):
                out.setdefault(turn["speaker_id"], set()).add(turn["speaker"])
    return out


def test_every_stored_id_and_printed_form_finds_the_person_in_both_languages(es, crawled, index_alias):
    ids = speaker_ids(es, index_alias)
    assert {"Sergey Ryabkov", "С.А.Рябков"} <= ids["riabkov-s"]
    for stored_id in ids:
        out = json.loads(run_cli("search", "--speaker", stored_id, "--json", alias=index_alias, settings=crawled).stdout)
        assert out["total"] > 0, stored_id
    for asked in ("riabkov-s", "Ryabkov", "Рябков", "Sergey Ryabkov", "С.А.Рябков"):
        out = json.loads(run_cli("search", "--speaker", asked, "--json", alias=index_alias, settings=crawled).stdout)
        assert sorted(h["language"] for h in out["hits"]) == ["en", "ru"], asked


def test_stats_by_speaker_has_one_row_per_person(es, crawled, index_alias):
    out = json.loads(run_cli("stats", "--by", "speaker", "--json", alias=index_alias, settings=crawled).stdout)
    buckets = out["buckets"]
    ryabkov = [k for k in buckets if "Ryabkov" in k or "Рябков" in k]
    zakharova = [k for k in buckets if "Zakharova" in k or "Захаров" in k]
    assert len(ryabkov) == 1 and buckets[ryabkov[0]] == 2
    assert zakharova == ["Maria Zakharova"]


def test_event_brings_the_language_versions_together(es, crawled, index_alias):
    out = json.loads(run_cli("search", "--speaker", "Ryabkov", "--json", alias=index_alias, settings=crawled).stdout)
    events = {h["event_id"] for h in out["hits"]}
    assert len(events) == 1 and None not in events
    event = events.pop()
    got = json.loads(run_cli("search", "--event", event, "--json", alias=index_alias, settings=crawled).stdout)
    assert sorted(h["language"] for h in got["hits"]) == ["en", "ru"]
    table = run_cli("search", "--event", event, alias=index_alias, settings=crawled).stdout
    assert f"event {event}" in table


def test_sections_print_one_label_per_language(es, crawled, index_alias):
    labels_en = {s.labels["en"] for s in get_profile().crawl.sections}
    out = json.loads(run_cli("stats", "--by", "section", "--json", alias=index_alias, settings=crawled).stdout)
    assert "Minister's speeches" in out["buckets"] and set(out["buckets"]) <= labels_en
    ru = json.loads(run_cli("stats", "--by", "section", "--language", "ru", "--json", alias=index_alias,
                            settings=crawled).stdout)
    assert "Выступления Министра" in ru["buckets"]
    table = run_cli("search", "--speaker", "Ryabkov", alias=index_alias, settings=crawled).stdout
    assert "Deputy Ministers' speeches" in table and "Выступления заместителей Министра" in table
    assert "[en/" not in table and "<em>" not in table
