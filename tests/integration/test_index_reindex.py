"""Blue/green rebuild: a new versioned index, a count check, an atomic alias swap, rollback."""

from __future__ import annotations

from pipeline.context import RunContext
from pipeline.store import design
from pipeline.store import reindex
from pipeline.ingest import ingest_archive
from pipeline.jobs.rebuild import rebuild

from tests.conftest import SAMPLE_DUMPS


def hashes(es, index: str) -> dict[str, str]:
    es.indices.refresh(index=index)
    hits = es.search(index=index, size=1000, source=["content_hash"])["hits"]["hits"]
    return {h["_id"]: h["_source"]["content_hash"] for h in hits}


def test_rebuild_from_the_current_index_swaps_the_alias_and_rollback_goes_back(es, settings, index_alias):
    ingest_archive(RunContext.build(settings), SAMPLE_DUMPS)
    before = hashes(es, index_alias)

    result = rebuild(RunContext.build(settings, es=es))
    assert (result.old_index, result.new_index) == (f"{index_alias}-v1", f"{index_alias}-v2")
    assert result.check == "ok" and result.swapped
    assert result.old_count == result.new_count == len(before)
    assert design.alias_indices(es, index_alias) == {f"{index_alias}-v2": {"is_write_index": True}}
    assert hashes(es, index_alias) == before
    assert es.indices.exists(index=f"{index_alias}-v1")  # kept for rollback

    # the new index has the current mapping; writes through the alias go to it
    assert design.write_index(es, index_alias) == f"{index_alias}-v2"

    assert reindex.rollback(es, settings) == (f"{index_alias}-v2", f"{index_alias}-v1")
    assert design.alias_indices(es, index_alias) == {f"{index_alias}-v1": {"is_write_index": True}}

    third = rebuild(RunContext.build(settings, es=es))
    assert third.new_index == f"{index_alias}-v3"  # never reuses a kept version's name


def test_rebuild_from_archive_folders(es, settings, index_alias):
    ingest_archive(RunContext.build(settings), SAMPLE_DUMPS)
    before = hashes(es, index_alias)
    result = rebuild(RunContext.build(settings, es=es), archive=[SAMPLE_DUMPS])
    assert result.swapped and result.new_count == len(before)
    assert result.report.extracted == len(before)
    assert hashes(es, index_alias) == before


def test_a_failed_check_leaves_the_alias_where_it_was(es, settings, index_alias, tmp_path):
    ingest_archive(RunContext.build(settings), SAMPLE_DUMPS)
    half = tmp_path / "half"
    half.mkdir()
    for path in sorted(SAMPLE_DUMPS.iterdir())[:2]:
        (half / path.name).write_bytes(path.read_bytes())

    result = rebuild(RunContext.build(settings, es=es), archive=[half])
    assert not result.swapped
    assert "fewer than" in result.check and result.new_count == 2
    assert design.write_index(es, index_alias) == f"{index_alias}-v1"

    lenient = rebuild(RunContext.build(settings, es=es), archive=[half], min_ratio=0.2)
    assert lenient.swapped and lenient.new_index == f"{index_alias}-v3"


def test_rebuild_with_a_stored_document_the_current_model_refuses_sends_it_to_dead_letters(es, settings, index_alias):
    ingest_archive(RunContext.build(settings), SAMPLE_DUMPS)
    # a document written by an older pipeline, with a body the current model rejects
    es.index(index=index_alias, id="legacy", refresh=True, document={
        "title": "Old record", "published_at": "2010-01-01T00:00:00+03:00", "language": "en",
        "body": "   ...   ", "source": "legacy-source", "content_hash": "x", "word_count": 0,
    })
    result = rebuild(RunContext.build(settings, es=es), min_ratio=0.5)
    assert result.swapped and result.new_count == result.old_count - 1
    assert result.report.failures_by_stage == {"validate": 1}
    es.indices.refresh(index=settings.deadletter_index)
    letters = es.search(index=settings.deadletter_index)["hits"]["hits"]
    assert [h["_source"]["source"] for h in letters] == ["legacy-source"]


def test_reindex_and_rollback_commands(es, settings, index_alias):
    import os
    import subprocess

    from tests.conftest import REPO

    ingest_archive(RunContext.build(settings), SAMPLE_DUMPS)
    env = {**os.environ, "MFA_INDEX_ALIAS": index_alias, "MFA_DEADLETTER_INDEX": settings.deadletter_index,
           "MFA_STATE_DIR": str(settings.state_dir)}
    cli = str(REPO / ".venv" / "bin" / "mfa-ingest")

    done = subprocess.run([cli, "reindex"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert f"alias now on {index_alias}-v2" in done.stdout
    done = subprocess.run([cli, "reindex", "--no-swap", "--min-ratio", "2"], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 1 and "alias unchanged" in done.stdout
    done = subprocess.run([cli, "rollback"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"{index_alias}: {index_alias}-v2 -> {index_alias}-v1"


def test_a_rebuild_refuses_to_swap_when_the_old_index_took_writes_during_the_build(es, settings, index_alias,
                                                                                   tmp_path):
    """A crawl writing through the alias while the new index is built: the swap would lose its documents."""
    first, late = tmp_path / "first", tmp_path / "late"
    first.mkdir(), late.mkdir()
    dumps = sorted(SAMPLE_DUMPS.iterdir())
    for path in dumps[:3]:
        (first / path.name).write_bytes(path.read_bytes())
    for path in dumps[3:]:
        (late / path.name).write_bytes(path.read_bytes())
    ingest_archive(RunContext.build(settings), first)

    def inputs_while_a_crawl_writes():
        ingest_archive(RunContext.build(settings), late)  # lands in the old index: the alias still points there
        yield first

    # min_ratio lets the count check pass (3 of 5): only the late-write check can stop the swap
    result = rebuild(RunContext.build(settings, es=es), archive=inputs_while_a_crawl_writes(), min_ratio=0.5)
    assert not result.swapped
    assert f"{index_alias}-v1 received {len(dumps) - 3} writes after the build started" in result.check
    assert design.write_index(es, index_alias) == f"{index_alias}-v1"
    assert es.count(index=index_alias)["count"] == len(dumps)

    quiet = rebuild(RunContext.build(settings, es=es), min_ratio=0.5)  # nothing writes now: the swap goes ahead
    assert quiet.swapped and quiet.new_count == len(dumps)


def test_a_rebuild_keeps_what_accumulated_on_each_document(es, settings, index_alias, tmp_path):
    """Every source that brought a transcript, its first publication date and its version count
    are history, not derived from the text: a rebuild (from the index or from archives) keeps them."""
    ingest_archive(RunContext.build(settings), SAMPLE_DUMPS)
    doc_id = sorted(hashes(es, index_alias))[0]
    stored = es.get(index=index_alias, id=doc_id)["_source"]
    history = {"sources": [*stored["sources"], "warc/2021-12-03.warc.gz#r7"],
               "first_published": "2003-01-01T10:00:00+03:00", "doc_version": 4}
    es.update(index=index_alias, id=doc_id, doc=history, refresh=True)

    for build in (lambda: rebuild(RunContext.build(settings, es=es)), lambda: rebuild(RunContext.build(settings, es=es), archive=[SAMPLE_DUMPS])):
        result = build()
        assert result.swapped, result.check
        kept = es.get(index=index_alias, id=doc_id)["_source"]
        assert {k: kept[k] for k in history} == history
        assert kept["content_hash"] == stored["content_hash"]
