"""Index config shared by the stores: one dead-letter document, search fields from the overlay, cached reads."""

from __future__ import annotations

import base64
import json
import shutil
from datetime import datetime, timezone

from pipeline.store import design
from pipeline.store import search
from pipeline.store.deadletter import MAX_RAW_BYTES, DeadLetterFile, failure_document
from pipeline.model.records import Failure
from pipeline.report import RunReport
from pipeline.settings import REPO_ROOT


def test_the_dead_letter_file_holds_the_document_the_dead_letter_index_gets(tmp_path):
    raw = "Заголовок".encode() + b"x" * (MAX_RAW_BYTES + 10)
    failure = Failure(source="a.txt", stage="extract", reason="no date", url="https://x/1", raw=raw,
                      at=datetime(2024, 5, 1, tzinfo=timezone.utc))
    store = DeadLetterFile(tmp_path)
    store.write(failure)
    (line,) = store.path.read_text(encoding="utf-8").splitlines()
    assert json.loads(line) == failure_document(failure)

    doc = failure_document(failure)
    mapped = json.loads((REPO_ROOT / "config/elasticsearch/deadletter.template.json").read_text())
    assert set(doc) <= set(mapped["mappings"]["properties"])  # the strict index takes it as is
    assert doc["raw_truncated"] is True and doc["raw_bytes"] == len(raw)
    assert base64.b64decode(doc["raw_base64"]) == raw[:MAX_RAW_BYTES]
    assert doc["raw_text"].startswith("Заголовок")


def test_search_fields_follow_the_language_overlay(tmp_path):
    config = tmp_path / "config"
    shutil.copytree(REPO_ROOT / "config" / "elasticsearch", config / "elasticsearch")
    overlay_path = config / "elasticsearch" / design.OVERLAY_FILE
    overlay = json.loads(overlay_path.read_text())
    overlay["fields"]["title"]["fr"] = {"type": "text", "analyzer": "french"}
    overlay["fields"]["turns.text"] = {"de": {"type": "text", "analyzer": "german"}}
    overlay_path.write_text(json.dumps(overlay))

    assert search.text_fields(config) == ["title^2", "title.en^2", "title.ru^2", "title.fr^2",
                                          "body", "body.en", "body.ru"]
    query = search.build_query("NATO", speaker="Sergey Lavrov", config_dir=config)
    turn_match = query["bool"]["must"][0]["nested"]["query"]["bool"]["must"][0]["simple_query_string"]
    assert turn_match["fields"] == ["turns.text", "turns.text.de"]
    assert search.text_fields() == ["title^2", "title.en^2", "title.ru^2", "body", "body.en", "body.ru"]


def test_config_reads_are_cached_but_see_an_edited_file(tmp_path):
    path = tmp_path / "x.json"
    path.write_text('{"_comment": "c", "a": 1}')
    first = design._load_json(path)
    first["a"] = 99  # a caller changing its copy does not change the cache
    assert design._load_json(path) == {"a": 1}
    # Cached per file version: the same mtime is not read again (new bytes under the old
    # mtime are not seen), a new mtime is.
    import os

    mtime = path.stat().st_mtime_ns
    path.write_text('{"a": 2, "b": 3}')
    os.utime(path, ns=(mtime, mtime))
    assert design._load_json(path) == {"a": 1}
    os.utime(path, ns=(0, 10**18))  # a different mtime even on coarse clocks
    assert design._load_json(path) == {"a": 2, "b": 3}


def test_count_outcome_counts_and_tells_a_failure():
    report = RunReport()
    assert [report.count_outcome(s) for s in ("created", "updated", "unchanged", "created", "failed")] == \
        [False, False, False, False, True]
    assert (report.new, report.updated, report.unchanged, report.failed) == (2, 1, 1, 0)
