"""history: a dump file names its document; --diff shows what each version changed, in time order."""

from __future__ import annotations

import shutil

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.context import RunContext
from pipeline.ingest import ingest_archive
from tests.conftest import SAMPLE_DUMPS


@pytest.fixture
def indexed_dump(settings, index_alias, tmp_path):
    """A folder with one dump file (the sample's first), indexed once: ``(folder, dump, its text)``."""
    folder = tmp_path / "dumps"
    folder.mkdir()
    dump = folder / "000.txt"
    original = next(SAMPLE_DUMPS.glob("000_*.txt")).read_text(encoding="utf-8")
    dump.write_text(original, encoding="utf-8")
    assert ingest_archive(RunContext.build(settings), folder).new == 1
    return folder, dump, original


def test_history_of_a_dump_file_with_the_diff_of_each_version(settings, index_alias, indexed_dump):
    folder, dump, original = indexed_dump
    dump.write_text(original.replace("Good afternoon.", "Good afternoon, colleagues. A sentence added later."),
                    encoding="utf-8")
    assert ingest_archive(RunContext.build(settings), folder).updated == 1

    done = CliRunner().invoke(app, ["history", str(dump), "--diff", "--index", index_alias])
    assert done.exit_code == 0, done.output
    out = done.stdout
    assert out.index("v1") < out.index("v2")
    assert "+Good afternoon, colleagues. A sentence added later." in out
    assert "-Good afternoon." in out
    shutil.rmtree(folder)


def _texts_a_b_a(n: int):
    """One article fetched on three days: text A, then B (a sentence added), then A again."""
    from datetime import datetime, timedelta

    from pipeline.model.records import MOSCOW
    from tests.integration.test_index import make_record

    day = datetime(2024, 3, 1, 9, 0, tzinfo=MOSCOW)
    a = make_record(n, event_id=f"mid:{100000 + n}", fetched_at=day,
                    source=f"https://mid.ru/en/foreign_policy/news/{100000 + n}/")
    b = a.model_copy(update={"body": a.body + " A sentence the page had for one day.",
                             "fetched_at": day + timedelta(days=1)})
    back = a.model_copy(update={"fetched_at": day + timedelta(days=2)})
    return a, b, back


def _write(es, settings, alias, versions, *records):
    from pipeline.store import writer

    return [o.status for o in writer.index_records(es, list(records), index=alias, settings=settings,
                                                   versions_index=versions)]


def test_a_text_the_page_goes_back_to_is_a_version_of_its_own_and_every_version_is_kept(
        es, settings, index_alias):
    """Issue 24 item 10. Before: the kept version's id was (document, content hash), so the
    third write (A again) renumbered v1's entry to 3: `history` showed v2 then v3, v1 gone,
    and the diff of v3 was against nothing it followed."""
    from pipeline.store import design
    from pipeline.store.history import history

    alias = design.ensure_index(es, settings)
    versions = design.ensure_versions_index(es, settings, alias)
    a, b, back = _texts_a_b_a(31)
    assert _write(es, settings, alias, versions, a) == ["created"]
    assert _write(es, settings, alias, versions, b) == ["updated"]
    assert _write(es, settings, alias, versions, back) == ["updated"]
    es.indices.refresh(index=alias)
    assert es.get(index=alias, id=a.doc_id)["_source"]["doc_version"] == 3

    kept = history(es, alias, a.doc_id)
    assert [(v["doc_version"], v["content_hash"]) for v in kept] == [
        (1, a.content_hash), (2, b.content_hash), (3, a.content_hash)]
    seen = [v["first_seen"] for v in kept]
    assert seen == sorted(seen) and len(set(seen)) == 3, "each version its own first seen, in time order"
    assert all(v["first_seen"] <= v["last_seen"] for v in kept)

    done = CliRunner().invoke(app, ["history", a.doc_id, "--diff", "--index", alias])
    assert done.exit_code == 0, done.output
    lines = done.stdout.splitlines()
    heads = [i for i, line in enumerate(lines) if not line.startswith("    ")]
    assert [lines[i].split("  ")[0] for i in heads] == ["v1", "v2", "v3"]
    v2_diff = lines[heads[1] + 1:heads[2]]
    v3_diff = lines[heads[2] + 1:]
    assert v2_diff == [f"    -{a.body}", f"    +{b.body}"]
    assert v3_diff == [f"    -{b.body}", f"    +{a.body}"], "v3 against v2"


def test_writing_the_same_input_again_or_retrying_it_adds_no_version(es, settings, index_alias):
    """The promises the version ids keep: the same input indexed twice, the same text in one
    chunk twice, and a chunk retried after its history write was refused: one version each."""
    from pipeline.store import design
    from pipeline.store.history import history

    alias = design.ensure_index(es, settings)
    versions = design.ensure_versions_index(es, settings, alias)
    a, b, back = _texts_a_b_a(32)
    assert _write(es, settings, alias, versions, a) == ["created"]
    assert _write(es, settings, alias, versions, a) == ["unchanged"]
    assert _write(es, settings, alias, versions, b, b) == ["updated", "unchanged"]
    es.indices.put_settings(index=versions, settings={"index.blocks.write": True})
    try:
        assert _write(es, settings, alias, versions, back) == ["failed"]  # stored, its version refused
    finally:
        es.indices.put_settings(index=versions, settings={"index.blocks.write": None})
    assert _write(es, settings, alias, versions, back) == ["unchanged"]  # the retry writes the version
    assert _write(es, settings, alias, versions, back) == ["unchanged"]
    kept = history(es, alias, a.doc_id)
    assert [(v["doc_version"], v["content_hash"]) for v in kept] == [
        (1, a.content_hash), (2, b.content_hash), (3, a.content_hash)]


def test_an_older_replay_of_a_text_the_document_had_touches_that_version(es, settings, index_alias):
    """An old capture (fetched before the stored version) of a text that was a numbered version is
    that version seen again, not an "earlier text, never indexed"; one the document never had is."""
    from datetime import timedelta

    from pipeline.store import design
    from pipeline.store.history import history

    alias = design.ensure_index(es, settings)
    versions = design.ensure_versions_index(es, settings, alias)
    a, b, back = _texts_a_b_a(33)
    _write(es, settings, alias, versions, a)
    _write(es, settings, alias, versions, b)
    old_a = a.model_copy(update={"fetched_at": a.fetched_at - timedelta(days=9)})
    draft = a.model_copy(update={"body": a.body + " A draft.", "fetched_at": a.fetched_at - timedelta(days=9)})
    assert _write(es, settings, alias, versions, old_a) == ["superseded"]
    assert _write(es, settings, alias, versions, draft) == ["superseded"]
    kept = history(es, alias, a.doc_id)
    assert [(v["doc_version"], v["content_hash"]) for v in kept] == [
        (1, a.content_hash), (2, b.content_hash), (None, draft.content_hash)]
    assert kept[0]["last_seen"] > kept[0]["first_seen"], "v1 seen again"


def test_a_history_written_by_the_old_ids_gets_no_duplicate_on_the_next_write(es, settings, index_alias):
    """A history index written before the version ids named the version kept its entries under
    (document, content hash). The next writes of the same text touch that entry instead of
    adding a second one; a new text is a new version beside it."""
    from datetime import datetime, timezone

    from pipeline.store import design, writer
    from pipeline.store.history import history

    alias = design.ensure_index(es, settings)
    versions = design.ensure_versions_index(es, settings, alias)
    a, b, back = _texts_a_b_a(34)
    assert _write(es, settings, alias, None, a) == ["created"]  # the document, its version written as before:
    then = datetime(2024, 3, 1, 10, 0, tzinfo=timezone.utc)
    es.index(index=versions, id=f"{a.doc_id}-{a.content_hash[:16]}", refresh=True,
             document=writer.version_document(a, a.doc_id, doc_version=1, at=then))
    assert _write(es, settings, alias, versions, a) == ["unchanged"]
    assert _write(es, settings, alias, versions, b) == ["updated"]
    assert _write(es, settings, alias, versions, b) == ["unchanged"]
    assert _write(es, settings, alias, versions, back) == ["updated"]
    kept = history(es, alias, a.doc_id)
    assert [(v["doc_version"], v["content_hash"]) for v in kept] == [
        (1, a.content_hash), (2, b.content_hash), (3, a.content_hash)]
    assert kept[0]["first_seen"] == then.isoformat() and kept[0]["last_seen"] > then.isoformat()


def test_a_rebuild_and_a_rollback_leave_every_version_named_once(es, settings, index_alias, indexed_dump):
    """The rebuild keeps no versions and carries the version count (a text it changed is v2 with
    no entry yet); the next write of that text gives v2 its entry. After a rollback the old index
    says v1 again, and the same edit written once more is v2 again: the same entry, not a second."""
    from pipeline.jobs.rebuild import rebuild
    from pipeline.store import reindex
    from pipeline.store.history import history

    folder, dump, original = indexed_dump
    dump.write_text(original.replace("Good afternoon.", "Good afternoon, colleagues."), encoding="utf-8")
    assert rebuild(RunContext.build(settings, es=es), archive=[folder]).swapped

    def numbers() -> list[int]:
        return [v["doc_version"] for v in history(es, index_alias, str(dump))]

    assert numbers() == [1]
    assert ingest_archive(RunContext.build(settings), folder).unchanged == 1
    assert numbers() == [1, 2], "the rebuilt text has its entry once it is written"
    reindex.rollback(es, settings)
    assert ingest_archive(RunContext.build(settings), folder).updated == 1
    assert numbers() == [1, 2]
    es.indices.refresh(index=index_alias)
    doc = es.search(index=index_alias, size=1)["hits"]["hits"][0]["_source"]
    assert doc["doc_version"] == 2


def test_a_document_written_again_whose_version_is_kept_already_touches_that_entry(es, settings, index_alias):
    """A new document's version is written with ``create`` (no look-up of the entry first); when
    the history has that entry already (the document left the index: a rollback to an index
    version without it, a fold) the entry is touched as before, never refused or duplicated."""
    from pipeline.store import design
    from pipeline.store.history import history

    alias = design.ensure_index(es, settings)
    versions = design.ensure_versions_index(es, settings, alias)
    a, _, _ = _texts_a_b_a(33)
    assert _write(es, settings, alias, versions, a) == ["created"]
    first = history(es, alias, a.doc_id)
    es.delete(index=alias, id=a.doc_id, refresh=True)
    assert _write(es, settings, alias, versions, a) == ["created"]
    kept = history(es, alias, a.doc_id)
    assert [(v["doc_version"], v["content_hash"]) for v in kept] == [(1, a.content_hash)]
    assert kept[0]["first_seen"] == first[0]["first_seen"] and kept[0]["last_seen"] > first[0]["last_seen"]
