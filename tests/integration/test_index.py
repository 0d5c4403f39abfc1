"""pipeline/index.py on the real node: template, alias, streaming bulk, skip-unchanged, dead letters."""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime

import pytest

from pipeline.store import deadletter
from pipeline.store import design
from pipeline.store import writer
from pipeline.model.errors import ConfigError
from pipeline.model.records import MOSCOW, Failure, Transcript, Turn


def make_record(n: int, *, body: str | None = None, **extra) -> Transcript:
    fields = dict(
        title=f"Foreign Minister's remarks number {n}",
        published_at=datetime(2024, 1 + n % 12, 1 + n % 27, 12, 0, tzinfo=MOSCOW),
        location="Moscow",
        language="en",
        languages=["en", "ru"],
        doc_number=f"{1000 + n}-01-01-2024",
        section="speeches",
        url=f"https://mid.ru/en/foreign_policy/news/{100000 + n}/",
        body=body or f"Sergey Lavrov spoke about item {n} and cooperation.",
        turns=[
            Turn(speaker="Question", role="question", text=f"What about item {n}?"),
            Turn(speaker="Sergey Lavrov", role="answer", text=f"Item {n} matters."),
        ],
        speakers=["Sergey Lavrov"],
        source=f"test#{n}",
    )
    fields.update(extra)
    return Transcript(**fields)


def outcomes_by_status(outcomes) -> dict[str, int]:
    counts: dict[str, int] = {}
    for outcome in outcomes:
        counts[outcome.status] = counts.get(outcome.status, 0) + 1
    return counts


def test_ensure_index_creates_v1_behind_a_write_alias_and_is_idempotent(es, settings, index_alias):
    assert design.ensure_index(es, settings) == index_alias
    assert design.ensure_index(es, settings) == index_alias  # second call: no error, nothing new
    behind = design.alias_indices(es, index_alias)
    assert behind == {f"{index_alias}-v1": {"is_write_index": True}}
    tpl = es.indices.get_index_template(name=design.template_name(index_alias))["index_templates"][0]
    assert tpl["index_template"]["index_patterns"] == [f"{index_alias}-v*"]
    assert tpl["index_template"]["version"] == 1


def test_mappings_are_exactly_as_declared(es, settings, index_alias):
    design.ensure_index(es, settings)
    stored = es.indices.get_mapping(index=f"{index_alias}-v1")[f"{index_alias}-v1"]["mappings"]
    # the language overlay on every node: the project's node has the analyzers (plugins/analysis-lang)
    assert stored == design.declared_mappings(settings, with_languages=True)
    assert stored["dynamic"] == "strict"
    assert stored["properties"]["turns"]["type"] == "nested"
    assert stored["properties"]["body"]["fields"]["ru"]["analyzer"] == "russian_initials"
    analysis = es.indices.get_settings(index=f"{index_alias}-v1")[f"{index_alias}-v1"]["settings"]["index"]["analysis"]
    assert set(analysis["analyzer"]) == set(design.declared_settings(settings, with_languages=True)["analysis"]["analyzer"])


def test_declared_overlay_adds_language_subfields_to_title_body_and_turn_text(settings):
    mappings = design.declared_mappings(settings, with_languages=True)
    props = mappings["properties"]
    for field in (props["title"], props["body"], props["turns"]["properties"]["text"]):
        assert field["fields"]["en"]["analyzer"] == "english"
        assert field["fields"]["ru"]["analyzer"] == "russian_initials"
    assert "fields" not in design.declared_mappings(settings, with_languages=False)["properties"]["body"]
    assert "russian_initials" in design.declared_settings(settings, with_languages=True)["analysis"]["analyzer"]
    assert "russian_initials" not in design.declared_settings(settings, with_languages=False)["analysis"].get("analyzer", {})


def test_reingest_skips_unchanged_and_an_edit_updates_in_place(es, settings, index_alias):
    alias = design.ensure_index(es, settings)
    settings.bulk_chunk_size = 7  # several chunks, one short
    records = [make_record(n) for n in range(20)]

    first = list(writer.index_records(es, records, index=alias, settings=settings))
    assert outcomes_by_status(first) == {"created": 20}
    assert [o.doc_id for o in first] == [r.doc_id for r in records]
    design.refresh(es, alias)
    assert es.count(index=alias)["count"] == 20

    second = list(writer.index_records(es, records, index=alias, settings=settings))
    assert outcomes_by_status(second) == {"unchanged": 20}

    edited = records[:]
    edited[3] = make_record(3, body="Sergey Lavrov spoke about item 3, edited later.")
    third = list(writer.index_records(es, edited, index=alias, settings=settings))
    assert outcomes_by_status(third) == {"unchanged": 19, "updated": 1}
    design.refresh(es, alias)
    assert es.count(index=alias)["count"] == 20
    doc = es.get(index=alias, id=records[3].doc_id)["_source"]
    assert doc["content_hash"] == edited[3].content_hash
    assert doc["body"].endswith("edited later.")
    assert doc["doc_version"] == 2
    assert es.get(index=alias, id=records[4].doc_id)["_source"]["doc_version"] == 1


def test_a_stored_document_the_match_key_look_up_misses_is_read_and_planned_not_refused(es, settings, index_alias):
    """An input whose transcript the search by match key does not find is created without reading
    it first; when its document is stored all the same (not refreshed yet, or stored under another
    title, so another match key), the create is refused and the input is planned against the stored
    document: unchanged or updated, with its version kept, never failed or written twice."""
    alias = design.ensure_index(es, settings)
    versions = design.ensure_versions_index(es, settings, alias)
    es.indices.put_settings(index=design.write_index(es, alias), settings={"index.refresh_interval": "-1"})
    records = [make_record(n) for n in range(6)]
    assert outcomes_by_status(writer.index_records(es, records, index=alias, settings=settings,
                                                   versions_index=versions)) == {"created": 6}
    retitled = make_record(4, title="Foreign Minister's remarks, retitled", body="Sergey Lavrov spoke again.")
    again = [*records[:4], retitled, records[5]]

    outcomes = list(writer.index_records(es, again, index=alias, settings=settings, versions_index=versions))
    assert [(o.doc_id, o.status) for o in outcomes] == [(r.doc_id, "unchanged") for r in records[:4]] + [
        (retitled.doc_id, "updated"), (records[5].doc_id, "unchanged")]
    design.refresh(es, alias)
    assert es.count(index=alias)["count"] == 6
    assert es.get(index=alias, id=retitled.doc_id)["_source"]["doc_version"] == 2
    es.indices.refresh(index=versions)
    kept = es.search(index=versions, query={"term": {"doc_id": retitled.doc_id}}, sort=["doc_version"])["hits"]["hits"]
    assert [(h["_source"]["doc_version"], h["_source"]["content_hash"]) for h in kept] == [
        (1, records[4].content_hash), (2, retitled.content_hash)]


def test_several_chunks_in_flight_keep_the_order_and_never_create_a_document_twice(es, settings, index_alias):
    alias = design.ensure_index(es, settings)
    settings.bulk_chunk_size = 5
    settings.bulk_in_flight = 3
    records = [make_record(n) for n in range(30)]
    # the same document again two chunks later: its chunk waits for the one that created it
    again = [*records[:12], make_record(2, body="Sergey Lavrov spoke about item 2, edited later."), *records[12:]]

    outcomes = list(writer.index_records(es, again, index=alias, settings=settings))
    assert [o.doc_id for o in outcomes] == [r.doc_id for r in again]
    assert outcomes_by_status(outcomes) == {"created": 30, "updated": 1}
    design.refresh(es, alias)
    assert es.count(index=alias)["count"] == 30
    assert es.get(index=alias, id=records[2].doc_id)["_source"]["doc_version"] == 2


def test_chunks_in_flight_never_send_two_bulks_into_one_index_at_once(es, settings, index_alias):
    """With several chunks in flight their requests overlap only across indices (a chunk's
    documents beside the chunk before's kept versions): two bulk requests into one shard at once
    cost the node more per document (``writer.WriteGates``). Each bulk request is held a moment
    here so that any two the writer would send at once do overlap."""
    alias = design.ensure_index(es, settings)
    versions = design.ensure_versions_index(es, settings, alias)
    settings.bulk_chunk_size, settings.bulk_in_flight = 4, 3
    spans: list[tuple[set[str], float, float]] = []

    class HeldBulks(type(es)):
        def bulk(self, *args, **kwargs):
            body = kwargs["operations"]
            lines = [json.loads(line) for line in (body.splitlines() if isinstance(body, (bytes, str)) else body)]
            indices = {next(iter(line.values()))["_index"] for line in lines
                       if len(line) == 1 and next(iter(line)) in ("index", "create", "update", "delete")}
            start = time.monotonic()
            time.sleep(0.05)
            try:
                return super().bulk(*args, **kwargs)
            finally:
                spans.append((indices, start, time.monotonic()))

    records = [make_record(n) for n in range(24)]
    outcomes = list(writer.index_records(HeldBulks(_transport=es.transport), records, index=alias,
                                         settings=settings, versions_index=versions))
    assert outcomes_by_status(outcomes) == {"created": 24}
    assert {target for indices, _, _ in spans for target in indices} == {alias, versions}
    together = [(a, b) for i, a in enumerate(spans) for b in spans[i + 1:]
                if a[0] & b[0] and a[1] < b[2] and b[1] < a[2]]
    assert together == []
    assert any(a[0] != b[0] and a[1] < b[2] and b[1] < a[2] for i, a in enumerate(spans) for b in spans[i + 1:])
    es.indices.refresh(index=versions)
    assert es.count(index=versions)["count"] == 24


def test_a_document_the_mapping_refuses_fails_with_the_reason_and_the_rest_go_in(es, settings, index_alias):
    class WithUnmappedField(Transcript):
        sentiment: str = "positive"

    alias = design.ensure_index(es, settings)
    good = make_record(1)
    bad = WithUnmappedField(**make_record(2).model_dump(exclude={"word_count", "content_hash"}))
    outcomes = {o.doc_id: o for o in writer.index_records(es, [good, bad], index=alias, settings=settings)}
    assert outcomes[good.doc_id].status == "created"
    assert outcomes[bad.doc_id].status == "failed"
    assert "strict_dynamic_mapping_exception" in outcomes[bad.doc_id].reason
    assert outcomes[bad.doc_id].source == "test#2"
    design.refresh(es, alias)
    assert es.count(index=alias)["count"] == 1


def test_busy_index_429_is_retried_until_it_accepts(es, settings, index_alias):
    alias = design.ensure_index(es, settings)
    concrete = design.write_index(es, alias)
    es.indices.put_settings(index=concrete, settings={"index.blocks.read_only_allow_delete": True})

    def unblock_later():
        time.sleep(1.5)
        es.indices.put_settings(index=concrete, settings={"index.blocks.read_only_allow_delete": None})

    thread = threading.Thread(target=unblock_later)
    thread.start()
    try:
        outcomes = list(writer.index_records(es, [make_record(n) for n in range(5)], index=alias,
                                               settings=settings))
    finally:
        thread.join()
    assert outcomes_by_status(outcomes) == {"created": 5}


def test_dead_letter_sink_keeps_reason_and_raw_input(es, settings, index_alias):
    sink = deadletter.dead_letter_sink(es, settings)
    raw = "Заголовок без даты\n".encode() * 10
    failure = Failure(source="dump/001.txt", stage="validate", reason="published_at: Field required",
                      url="https://mid.ru/en/x/1/", raw=raw)
    sink(failure)
    sink(failure)  # the same refusal again keeps one dead letter
    es.indices.refresh(index=settings.deadletter_index)
    hits = es.search(index=settings.deadletter_index, query={"term": {"stage": "validate"}})["hits"]["hits"]
    assert len(hits) == 1
    doc = hits[0]["_source"]
    assert doc["reason"] == "published_at: Field required" and doc["source"] == "dump/001.txt"
    assert doc["raw_text"].startswith("Заголовок без даты")
    assert doc["raw_bytes"] == len(raw) and doc["raw_truncated"] is False
    mapping = es.indices.get_mapping(index=settings.deadletter_index)[settings.deadletter_index]["mappings"]
    assert mapping["dynamic"] == "strict"


def test_a_concrete_index_where_the_alias_belongs_is_refused(es, settings, index_alias):
    es.indices.create(index=index_alias)
    with pytest.raises(Exception, match="concrete index"):
        design.ensure_index(es, settings)


def test_an_index_made_before_the_design_grew_gets_the_new_fields(es, settings, index_alias):
    """Before: a v1 index created before new record fields refused every new document (strict)."""
    alias = design.ensure_index(es, settings)
    concrete = design.write_index(es, alias)
    es.indices.delete(index=concrete)
    es.indices.delete_index_template(name=design.template_name(alias))  # the index as an older release made it
    old_design = design.declared_mappings(settings, with_languages=True)
    del old_design["properties"]["event_id"]
    es.indices.create(index=concrete, mappings=old_design, settings=design.declared_settings(settings, with_languages=True),
                      aliases={alias: {"is_write_index": True}})
    assert "event_id" not in es.indices.get_mapping(index=concrete)[concrete]["mappings"]["properties"]
    design.ensure_index(es, settings)
    assert "event_id" in es.indices.get_mapping(index=concrete)[concrete]["mappings"]["properties"]
    outcomes = list(writer.index_records(es, [make_record(1)], index=alias, settings=settings))
    assert [o.status for o in outcomes] == ["created"]


def test_an_index_of_another_design_is_refused_with_a_clear_error(es, settings, index_alias):
    alias = design.ensure_index(es, settings)
    concrete = design.write_index(es, alias)
    es.indices.delete(index=concrete)
    es.indices.delete_index_template(name=design.template_name(alias))
    clashing = design.declared_mappings(settings, with_languages=False)
    clashing["properties"]["word_count"] = {"type": "keyword"}
    es.indices.create(index=concrete, mappings=clashing, settings=design.load_template(settings)["template"]["settings"],
                      aliases={alias: {"is_write_index": True}})
    with pytest.raises(ConfigError, match="does not fit the current index design"):
        design.ensure_index(es, settings)


def test_a_refused_history_write_fails_its_input_and_the_retry_keeps_the_version(es, settings, index_alias):
    """Before: a kept version refused by Elasticsearch was only logged; the input came out
    "created" and the ledger marked it done, so that text never reached the history."""
    alias = design.ensure_index(es, settings)
    history = design.ensure_versions_index(es, settings, alias)
    records = [make_record(n) for n in range(3)]
    es.indices.put_settings(index=history, settings={"index.blocks.write": True})
    try:
        first = list(writer.index_records(es, records, index=alias, settings=settings, versions_index=history))
    finally:
        es.indices.put_settings(index=history, settings={"index.blocks.write": None})
    assert [o.status for o in first] == ["failed"] * 3
    assert all(o.reason.startswith("created, but keeping its version in the history refused: status 403")
               for o in first), first

    again = list(writer.index_records(es, records, index=alias, settings=settings, versions_index=history))
    assert [o.status for o in again] == ["unchanged"] * 3
    es.indices.refresh(index=history)
    kept = es.search(index=history, size=10)["hits"]["hits"]
    assert sorted(h["_source"]["content_hash"] for h in kept) == sorted(r.content_hash for r in records)


def _crawled_and_dump(n: int) -> tuple[Transcript, Transcript]:
    """One transcript as the crawl has it (an article, its URLs) and as a text dump of the same text."""
    crawled = make_record(n, event_id=f"mid:{100000 + n}", urls=[f"https://mid.ru/en/foreign_policy/news/{100000 + n}/"],
                          source=f"https://mid.ru/en/foreign_policy/news/{100000 + n}/")
    dump = make_record(n, url=None, source=f"/dumps/{n:03d}.txt")
    assert dump.content_hash == crawled.content_hash and dump.match_key == crawled.match_key
    return crawled, dump


def _stored(es, alias: str, doc_id: str) -> dict:
    es.indices.refresh(index=alias)
    return es.get(index=alias, id=doc_id)["_source"]


def test_a_dump_of_the_crawled_text_is_one_more_source_of_it(es, settings, index_alias):
    """Before: a dump whose text is the crawled document's came out "unchanged" without its
    source on the document (the same-text check came first), so a dump then a crawl and a
    crawl then a dump ended differently: the Celery tier's race lost the dump's source."""
    alias = design.ensure_index(es, settings)
    crawled, dump = _crawled_and_dump(3)
    assert [o.status for o in writer.index_records(es, [crawled], index=alias, settings=settings)] == ["created"]
    es.indices.refresh(index=alias)  # the dump finds the crawled document by a search
    outcomes = list(writer.index_records(es, [dump], index=alias, settings=settings))
    assert [(o.doc_id, o.status) for o in outcomes] == [(crawled.doc_id, "unchanged")]
    assert _stored(es, alias, crawled.doc_id)["sources"] == [crawled.source, dump.source]


def _another_run_writes_after_the_first_read(monkeypatch, write) -> list:
    """Patch the writer so that ``write()`` (another run's write) lands after this run's first
    look-ups, right before its first write (a document taken for new is not read at all: its
    look-up by match key found nothing). Returns the sends made."""
    send = writer._Plan.send
    sends: list = []

    def another_run_writes_then_send(plan, *args, **kwargs):
        sends.append(args)
        if len(sends) == 1:
            with monkeypatch.context() as plain:
                plain.setattr(writer._Plan, "send", send)
                write()
        return send(plan, *args, **kwargs)

    monkeypatch.setattr(writer._Plan, "send", another_run_writes_then_send)
    return sends


def test_a_source_added_meanwhile_by_another_run_is_never_overwritten(es, settings, index_alias, monkeypatch):
    """The writer adds a source to what it read; when another run changes the document between
    that read and the write, the write is refused (conditional) and made again on a fresh read."""
    alias = design.ensure_index(es, settings)
    crawled, dump = _crawled_and_dump(4)
    list(writer.index_records(es, [crawled], index=alias, settings=settings))
    es.indices.refresh(index=alias)
    reads = _another_run_writes_after_the_first_read(monkeypatch, lambda: es.update(
        index=alias, id=crawled.doc_id, doc={"sources": [crawled.source, "/other-run/dump.txt"]}))
    outcomes = list(writer.index_records(es, [dump], index=alias, settings=settings))
    assert [o.status for o in outcomes] == ["unchanged"], outcomes
    assert _stored(es, alias, crawled.doc_id)["sources"] == [crawled.source, "/other-run/dump.txt", dump.source]
    assert len(reads) == 2  # read again once after the refusal


def test_an_edit_written_while_another_run_adds_a_source_keeps_that_source(es, settings, index_alias, monkeypatch):
    """Before: an edited text was written whole with the sources read before; a source another
    run added in between was lost. The write is conditional, and planned again on a fresh read."""
    alias = design.ensure_index(es, settings)
    crawled, _ = _crawled_and_dump(5)
    list(writer.index_records(es, [crawled], index=alias, settings=settings))
    edited = crawled.model_copy(update={"body": crawled.body + " And one more sentence was added later."})
    reads = _another_run_writes_after_the_first_read(monkeypatch, lambda: es.update(
        index=alias, id=crawled.doc_id, doc={"sources": [crawled.source, "/other-run/dump.txt"]}))
    outcomes = list(writer.index_records(es, [edited], index=alias, settings=settings))
    assert [o.status for o in outcomes] == ["updated"], outcomes
    stored = _stored(es, alias, crawled.doc_id)
    assert stored["content_hash"] == edited.content_hash and stored["doc_version"] == 2
    assert stored["sources"] == [crawled.source, "/other-run/dump.txt"]
    assert len(reads) == 2


def test_two_edits_at_once_keep_each_text_under_its_own_version_number(es, settings, index_alias, monkeypatch):
    """Two runs editing one document at once. Before: the write refused because the other run
    had written meanwhile still kept its text in the history, numbered from the stale read (2),
    and the write planned again never corrected it: two texts numbered 2. A version is now kept
    only once the write of its document went through."""
    from pipeline.store.history import history

    alias = design.ensure_index(es, settings)
    versions = design.ensure_versions_index(es, settings, alias)
    crawled, _ = _crawled_and_dump(7)
    list(writer.index_records(es, [crawled], index=alias, settings=settings, versions_index=versions))
    ours = crawled.model_copy(update={"body": crawled.body + " This run read one more sentence at the end."})
    theirs = crawled.model_copy(update={"body": crawled.body + " The other run read another closing sentence."})
    _another_run_writes_after_the_first_read(monkeypatch, lambda: list(
        writer.index_records(es, [theirs], index=alias, settings=settings, versions_index=versions)))
    outcomes = list(writer.index_records(es, [ours], index=alias, settings=settings, versions_index=versions))
    assert [o.status for o in outcomes] == ["updated"], outcomes
    stored = _stored(es, alias, crawled.doc_id)
    assert (stored["content_hash"], stored["doc_version"]) == (ours.content_hash, 3)
    kept = sorted((v["doc_version"], v["content_hash"]) for v in history(es, alias, crawled.doc_id))
    assert kept == [(1, crawled.content_hash), (2, theirs.content_hash), (3, ours.content_hash)]


def test_a_text_only_an_older_replay_had_is_kept_without_a_number_and_is_a_version_once_the_page_has_it(
        es, settings, index_alias):
    """An old WARC replayed after the page was edited twice brings a third text, fetched before
    the stored one (``superseded``). Before: that text was kept under the stored version's
    number, two texts numbered 2 of which one was never the document's. It is kept without a
    number; when a later fetch makes it the document's text, that is version 3, an entry of its
    own (what the old capture showed stays, as every version does: issue 24 item 10)."""
    from datetime import timedelta

    from typer.testing import CliRunner

    from pipeline.cli import app
    from pipeline.store.history import history

    alias = design.ensure_index(es, settings)
    versions = design.ensure_versions_index(es, settings, alias)
    crawled, _ = _crawled_and_dump(8)
    day = datetime(2024, 3, 1, 9, 0, tzinfo=MOSCOW)
    first = crawled.model_copy(update={"fetched_at": day})
    edited = first.model_copy(update={"body": first.body + " A sentence added on the second day.",
                                      "fetched_at": day + timedelta(days=1)})
    older = first.model_copy(update={"body": first.body + " A draft sentence the page had before.",
                                     "fetched_at": day - timedelta(days=30)})

    def write(record):
        return [o.status for o in writer.index_records(es, [record], index=alias, settings=settings,
                                                       versions_index=versions)]

    assert write(first) == ["created"] and write(edited) == ["updated"]
    assert write(older) == ["superseded"]
    assert _stored(es, alias, first.doc_id)["doc_version"] == 2
    kept = {v["content_hash"]: v["doc_version"] for v in history(es, alias, first.doc_id)}
    assert kept == {first.content_hash: 1, edited.content_hash: 2, older.content_hash: None}
    listed = CliRunner().invoke(app, ["history", first.doc_id, "--index", alias])
    assert listed.exit_code == 0, listed.output
    assert [line.split("  ")[0] for line in listed.stdout.splitlines()] == [
        "v1", "v2", f"earlier text (fetched {older.fetched_at.isoformat()}, never indexed)"]

    back = older.model_copy(update={"fetched_at": day + timedelta(days=2)})  # the page now has that text
    assert write(back) == ["updated"]
    assert _stored(es, alias, first.doc_id)["doc_version"] == 3
    kept = [(v["doc_version"], v["content_hash"]) for v in history(es, alias, first.doc_id)]
    assert kept == [(1, first.content_hash), (2, edited.content_hash), (None, older.content_hash),
                    (3, older.content_hash)]


def test_a_new_document_written_by_another_run_meanwhile_is_not_replaced(es, settings, index_alias, monkeypatch):
    """Two runs writing one new transcript at once (two backfill partitions): before, the later
    write replaced the earlier whole, sources and all. A document not stored when read is now
    created, never replaced: the second run's create is refused and planned again."""
    alias = design.ensure_index(es, settings)
    crawled, _ = _crawled_and_dump(6)
    other_run = crawled.model_copy(update={"source": "/archive/other-run.warc.gz#123"})
    other = []  # nothing is stored at this run's read; the other run's write lands right after it
    _another_run_writes_after_the_first_read(monkeypatch, lambda: other.extend(
        writer.index_records(es, [other_run], index=alias, settings=settings)))
    outcomes = list(writer.index_records(es, [crawled], index=alias, settings=settings))
    assert [o.status for o in outcomes] == ["unchanged"], outcomes
    assert [o.status for o in other] == ["created"]
    assert _stored(es, alias, crawled.doc_id)["sources"] == [other_run.source, crawled.source]
