"""The first slice end to end without Airflow: sample dumps -> extract -> real Elasticsearch."""

import re

import pytest

from pipeline.context import RunContext
from pipeline.ingest import ingest_archive
from pipeline.sources.dumps import iter_dump_folder

from tests.conftest import SAMPLE_DUMPS, assert_accounted


def count(es, alias):
    es.indices.refresh(index=alias)
    return es.count(index=alias)["count"]


def files_mentioning(word):
    return {p.name for p in SAMPLE_DUMPS.iterdir() if re.search(rf"\b{word}\b", p.read_text(encoding="utf-8"))}


def test_sample_is_indexed_once_and_reingest_keeps_the_count(es, settings, index_alias):
    first = ingest_archive(RunContext.build(settings), SAMPLE_DUMPS)
    n_files = len(list(SAMPLE_DUMPS.iterdir()))
    assert (first.read, first.extracted, first.new, first.failed) == (n_files, n_files, n_files, 0)
    assert count(es, index_alias) == n_files
    assert_accounted(first)

    second = ingest_archive(RunContext.build(settings), SAMPLE_DUMPS)
    assert_accounted(second)
    assert (second.new, second.unchanged, second.failed) == (0, n_files, 0)
    assert count(es, index_alias) == n_files


def test_search_nato_finds_exactly_the_transcripts_that_mention_it(es, settings, index_alias):
    ingest_archive(RunContext.build(settings), SAMPLE_DUMPS)
    es.indices.refresh(index=index_alias)
    hits = es.search(index=index_alias, query={"match": {"body": "NATO"}}, size=50, source=["source"])["hits"]["hits"]
    found = {h["_source"]["source"].rsplit("/", 1)[-1] for h in hits}
    assert found == files_mentioning("NATO")
    assert found  # the sample does mention NATO


def test_documents_carry_the_record_fields(es, settings, index_alias):
    ingest_archive(RunContext.build(settings), SAMPLE_DUMPS)
    es.indices.refresh(index=index_alias)
    doc = es.search(index=index_alias, query={"term": {"doc_number": "1225-18-06-2021"}})["hits"]["hits"]
    assert len(doc) == 1
    src = doc[0]["_source"]
    assert src["published_at"] == "2021-06-18T15:45:00+03:00"
    assert src["location"] == "Moscow"
    assert "Advanced settings" not in src["body"] and "Фотоальбом" not in src["body"]


def test_bad_inputs_get_one_line_each_and_good_files_are_indexed(es, settings, index_alias, tmp_path):
    good = tmp_path / "mixed"
    good.mkdir()
    for name in sorted(p.name for p in SAMPLE_DUMPS.iterdir())[:2]:
        (good / name).write_bytes((SAMPLE_DUMPS / name).read_bytes())
    (good / "photo.jpg").write_bytes(bytes(range(256)) * 40)
    (good / "blank.txt").write_text("\n\n   \n")
    empty = tmp_path / "empty"
    empty.mkdir()
    lines: list[str] = []

    report = ingest_archive(RunContext.build(settings), [good, empty, tmp_path / "missing"], echo=lines.append)

    assert report.new == 2
    assert_accounted(report)
    assert count(es, index_alias) == 2
    assert report.failed == 4 and len(lines) == 4
    assert all("\n" not in line for line in lines)
    joined = "\n".join(lines)
    for name in ("photo.jpg", "blank.txt", "empty", "missing"):
        assert name in joined
    dead = settings.deadletter_dir
    assert sum(1 for f in dead.glob("*.jsonl") for _ in f.open()) == 4


@pytest.mark.parametrize("name", sorted(p.name for p in SAMPLE_DUMPS.iterdir()))
def test_every_sample_file_becomes_a_page(name):
    assert any(p.source.endswith(name) for p in iter_dump_folder(SAMPLE_DUMPS))
