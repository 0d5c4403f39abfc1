"""The dead-letter index keeps raw bytes up to an overall budget (``MFA_DEADLETTER_INDEX_MAX_BYTES``):
a damaged archive of 100,000 bad pages must not put ~100 GB of evidence in the index. Past the
budget a letter keeps its source, URL and reason but not its bytes, and says so; the run report
counts those letters; redrive fetches such a letter again when it has a URL and leaves it open,
saying why, when it has none."""

from __future__ import annotations

from pipeline.context import RunContext
from pipeline.ingest import ingest_archive
from pipeline.jobs.redrive import redrive

OVER_BUDGET = "over the dead-letter byte budget"


def letters(es, settings) -> list[dict]:
    es.indices.refresh(index=settings.deadletter_index)
    hits = es.search(index=settings.deadletter_index, size=100, sort=[{"source": "asc"}])["hits"]["hits"]
    return [{**h["_source"], "_id": h["_id"]} for h in hits]


def junk_folder(folder, names, size=3000):
    folder.mkdir(exist_ok=True)
    for i, name in enumerate(names):
        (folder / name).write_bytes(bytes([i + 1]) * size)  # binary: every one is refused
    return folder


def test_past_the_budget_a_letter_keeps_what_failed_and_why_but_not_its_bytes(es, settings, tmp_path):
    capped = settings.model_copy(update={"deadletter_index_max_bytes": 7000})
    junk = junk_folder(tmp_path / "junk", [f"j{i}.txt" for i in range(5)])
    report = ingest_archive(RunContext.build(capped), junk)
    assert report.read == report.failed == 5
    stored = letters(es, capped)
    assert len(stored) == 5  # every failure is a letter ...
    kept = [d for d in stored if "raw_base64" in d]
    dropped = [d for d in stored if "raw_base64" not in d]
    assert len(kept) == 2 and sum(d["raw_bytes"] for d in kept) <= 7000  # ... the bytes only under the budget
    assert len(dropped) == 3
    for letter in dropped:
        assert letter["bytes_dropped"] == OVER_BUDGET and "raw_text" not in letter
        assert letter["reason"] and letter["source"].startswith(str(junk)) and letter["raw_bytes"] == 3000
    assert all("bytes_dropped" not in d for d in kept)
    assert report.extra["deadletter_index_raw_dropped"] == 3  # nothing lost silently
    assert report.extra["deadletter_index_max_bytes"] == 7000

    # The budget is the index's, not the run's: a later run finds it spent ...
    more = junk_folder(tmp_path / "more", ["k0.txt"], size=2000)  # 6000 of 7000 spent
    later = ingest_archive(RunContext.build(capped), more)
    (new,) = [d for d in letters(es, capped) if d["source"].startswith(str(more))]
    assert new["bytes_dropped"] == OVER_BUDGET and later.extra["deadletter_index_raw_dropped"] == 1
    # ... and a run refusing the same inputs again keeps the letters that had their bytes whole.
    again = ingest_archive(RunContext.build(capped), junk)
    assert again.failed == 5
    assert {d["_id"] for d in letters(es, capped) if "raw_base64" in d} == {d["_id"] for d in kept}


def test_under_the_default_budget_every_letter_keeps_its_bytes(es, settings, tmp_path):
    report = ingest_archive(RunContext.build(settings), junk_folder(tmp_path / "junk", ["a.txt", "b.txt"]))
    assert report.failed == 2 and "deadletter_index_raw_dropped" not in report.extra
    assert all("raw_base64" in d and "bytes_dropped" not in d for d in letters(es, settings))


def test_a_letter_without_bytes_or_url_is_left_open_saying_why(es, settings, tmp_path):
    capped = settings.model_copy(update={"deadletter_index_max_bytes": 0})
    junk = junk_folder(tmp_path / "junk", ["gone.txt"])
    assert ingest_archive(RunContext.build(capped), junk).failed == 1
    (junk / "gone.txt").unlink()  # the input itself is no longer at hand either
    result = redrive(RunContext.build(capped))
    (letter,) = letters(es, capped)
    assert result.skipped == 1 and not letter.get("resolved")
    assert OVER_BUDGET in result.left_open[letter["_id"]] and "no URL" in result.left_open[letter["_id"]]


def test_a_letter_without_bytes_is_redriven_by_fetching_its_url_again(es, settings, replica, tmp_path):
    """A damaged page of a WARC, refused at extraction, its bytes over the budget: redrive has no
    bytes to read, so it fetches the page again from its URL (the site replica)."""
    from pipeline.crawl.fetch import FetchResult
    from pipeline.crawl.warcwriter import WarcStore
    from tests.replica.plugin import replica_overrides

    capped = settings.model_copy(update={**replica_overrides(replica), "deadletter_index_max_bytes": 0})
    url = replica.article_url(replica.live_articles()[0])
    damaged = b"\x00\x01\x02" * 1000
    with WarcStore(tmp_path) as store:
        store.record(FetchResult(url=url, status=200, reason="OK", http_version="HTTP/1.1",
                                 headers=[("Content-Type", "text/html; charset=utf-8")], request_headers=[],
                                 content=damaged, raw_body=damaged))
    replay = ingest_archive(RunContext.build(capped), store.files)
    assert replay.failed == 1 and replay.extra["deadletter_index_raw_dropped"] == 1
    (letter,) = letters(es, capped)
    assert letter["url"] == url and letter["bytes_dropped"] == OVER_BUDGET and "raw_base64" not in letter

    result = redrive(RunContext.build(capped))
    assert result.report.new == 1 and result.report.failed == 0, result.report.summary_lines()
    (letter,) = letters(es, capped)
    assert letter["resolved"] and letter["resolution"] == "indexed (created)"


def test_a_dead_letter_index_made_before_the_budget_gains_its_field(es, settings, tmp_path):
    """The mapping is strict: a letter saying ``bytes_dropped`` in an index made before the field
    existed would be refused (and logged only). The run's sink adds the field in place."""
    from pipeline.store.design import DEADLETTER_FILE, load_config_json

    body = load_config_json(settings, DEADLETTER_FILE)
    old = {k: v for k, v in body["mappings"]["properties"].items() if k != "bytes_dropped"}
    es.indices.create(index=settings.deadletter_index, mappings={**body["mappings"], "properties": old})
    capped = settings.model_copy(update={"deadletter_index_max_bytes": 0})
    assert ingest_archive(RunContext.build(capped), junk_folder(tmp_path / "junk", ["a.txt"])).failed == 1
    (letter,) = letters(es, capped)
    assert letter["bytes_dropped"] == OVER_BUDGET


def resolve(es, settings, letter_id: str, *, days_ago: float = 0) -> None:
    """Mark a letter resolved, as redrive does, ``days_ago`` days back."""
    from datetime import datetime, timedelta, timezone

    from pipeline.store.deadletter import mark_resolved

    mark_resolved(es, settings, {"_id": letter_id}, "indexed (created)")
    if days_ago:
        at = datetime.now(timezone.utc) - timedelta(days=days_ago)
        es.update(index=settings.deadletter_index, id=letter_id, doc={"resolved_at": at.isoformat()})


def test_resolved_letters_do_not_spend_the_budget(es, settings, tmp_path):
    """A resolved letter's input went through again (its new failure, if any, is a letter of its
    own): its bytes are kept until the prune, not counted against what open letters may keep."""
    capped = settings.model_copy(update={"deadletter_index_max_bytes": 7000})
    assert ingest_archive(RunContext.build(capped), junk_folder(tmp_path / "junk", ["a.txt", "b.txt"])).failed == 2
    for letter in letters(es, capped):  # 6000 of 7000 kept, then both resolved
        resolve(es, capped, letter["_id"])
    later = ingest_archive(RunContext.build(capped), junk_folder(tmp_path / "more", ["k0.txt"], size=2000))
    assert later.failed == 1 and "deadletter_index_raw_dropped" not in later.extra
    (new,) = [d for d in letters(es, capped) if d["source"].startswith(str(tmp_path / "more"))]
    assert "raw_base64" in new and "bytes_dropped" not in new


def test_prune_deletes_resolved_letters_older_than_the_age_only(es, settings, tmp_path):
    from typer.testing import CliRunner

    from pipeline.cli import app

    junk = junk_folder(tmp_path / "junk", ["old.txt", "young.txt", "open.txt"])
    assert ingest_archive(RunContext.build(settings), junk).failed == 3
    by_name = {d["source"].rsplit("/", 1)[-1]: d["_id"] for d in letters(es, settings)}
    resolve(es, settings, by_name["old.txt"], days_ago=40)
    resolve(es, settings, by_name["young.txt"], days_ago=2)
    env = {"MFA_DEADLETTER_INDEX": settings.deadletter_index, "MFA_INDEX_ALIAS": settings.index_alias}

    dry = CliRunner().invoke(app, ["prune-deadletters", "--older-than", "30", "--dry-run"], env=env)
    assert dry.exit_code == 0, dry.output
    assert "1 resolved dead letter" in dry.output and len(letters(es, settings)) == 3
    done = CliRunner().invoke(app, ["prune-deadletters", "--older-than", "30"], env=env)
    assert done.exit_code == 0, done.output
    assert {d["_id"] for d in letters(es, settings)} == {by_name["young.txt"], by_name["open.txt"]}
    assert CliRunner().invoke(app, ["prune-deadletters", "--older-than", "1"], env=env).exit_code == 0
    assert [d["_id"] for d in letters(es, settings)] == [by_name["open.txt"]]  # an open letter stays, however old


def test_redrive_prunes_resolved_letters_past_the_kept_age(es, settings, tmp_path):
    """The nightly's redrive (and ``mfa-ingest redrive``) prunes resolved letters older than
    ``MFA_DEADLETTER_KEEP_RESOLVED_DAYS``: nothing else would, and they would stay forever."""
    kept = settings.model_copy(update={"deadletter_keep_resolved_days": 30})
    assert ingest_archive(RunContext.build(kept), junk_folder(tmp_path / "junk", ["old.txt"])).failed == 1
    (letter,) = letters(es, kept)
    resolve(es, kept, letter["_id"], days_ago=31)
    result = redrive(RunContext.build(kept))
    assert result.report.extra["pruned"] == 1 and letters(es, kept) == []
