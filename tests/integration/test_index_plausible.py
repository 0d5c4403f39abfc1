"""The plausibility gate on the real node (issue 11, item 3): a new version of a stored
document whose body shrank by more than the setting's share is not written over it;
it comes out as a failed outcome with the reason, and the stored document stays."""

from __future__ import annotations

from pipeline.context import RunContext
from pipeline.store import design, writer
from tests.integration.test_index import make_record

LONG = " ".join(f"word{i}" for i in range(400)) + "."


def test_a_body_that_shrank_too_much_does_not_overwrite_the_stored_one(es, settings, index_alias):
    design.ensure_index(es, settings)
    first = make_record(1, body=LONG)
    assert [o.status for o in writer.index_records(es, [first], index=index_alias, settings=settings)] == ["created"]
    shrunk = make_record(1, body="Only nineteen words remain of this speech after a broken download cut it short here.")
    (outcome,) = writer.index_records(es, [shrunk], index=index_alias, settings=settings)
    assert outcome.status == "failed"
    assert outcome.reason == f"implausible: {shrunk.word_count} words vs 400 stored"
    stored = es.get(index=index_alias, id=first.doc_id)["_source"]
    assert stored["content_hash"] == first.content_hash and stored["doc_version"] == 1


def test_a_moderate_edit_still_updates(es, settings, index_alias):
    design.ensure_index(es, settings)
    writer.index_records(es, [make_record(2, body=LONG)], index=index_alias, settings=settings).__next__()
    edited = make_record(2, body=" ".join(f"word{i}" for i in range(300)) + ".")
    assert [o.status for o in writer.index_records(es, [edited], index=index_alias, settings=settings)] == ["updated"]


def test_the_threshold_is_a_setting(es, settings, index_alias):
    design.ensure_index(es, settings)
    list(writer.index_records(es, [make_record(3, body=LONG)], index=index_alias, settings=settings))
    lax = settings.model_copy(update={"index_max_shrink": 0.99})
    short = make_record(3, body=" ".join(f"word{i}" for i in range(40)) + ".")
    assert [o.status for o in writer.index_records(es, [short], index=index_alias, settings=lax)] == ["updated"]


def test_a_cut_short_copy_of_a_dump_goes_to_the_dead_letters_and_the_stored_one_stays(es, settings, index_alias,
                                                                                       tmp_path):
    from pipeline.ingest import ingest_archive
    from tests.conftest import SAMPLE_DUMPS

    name = "000_dcbbeb771279dad1.txt"
    full = tmp_path / "full"
    full.mkdir()
    (full / name).write_bytes((SAMPLE_DUMPS / name).read_bytes())
    assert ingest_archive(RunContext.build(settings), full).new == 1
    stored = es.search(index=index_alias, query={"match_all": {}})["hits"]["hits"][0]["_source"]

    cut = tmp_path / "cut"
    cut.mkdir()
    lines = (SAMPLE_DUMPS / name).read_text(encoding="utf-8").split("\n")
    (cut / name).write_text("\n".join(lines[:14]), encoding="utf-8")  # head and the first paragraphs only
    report = ingest_archive(RunContext.build(settings), cut)
    assert (report.new, report.updated, report.failed) == (0, 0, 1)
    assert any(f"implausible:" in line and f"vs {stored['word_count']:,} stored" in line for line in report.failures)
    es.indices.refresh(index=index_alias)
    again = es.search(index=index_alias, query={"match_all": {}})["hits"]["hits"]
    assert len(again) == 1 and again[0]["_source"]["content_hash"] == stored["content_hash"]
