"""Exports that never truncate: search --format csv|json returns every match (point in time +
search_after, streamed); a table page beyond the result window is a one-line error, not a traceback."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timezone

import orjson
import pytest

from pipeline.model.records import MOSCOW, Transcript, Turn
from pipeline.store import design, writer
from tests.integration.test_index_search import run_cli

N = 25_000


@pytest.fixture
def many_answers(es, settings, index_alias):
    """N documents, each with one answer by Maria Zakharova, bulk-loaded with the store's writer."""
    alias = design.ensure_index(es, settings)
    template = Transcript(
        title="Briefing by Foreign Ministry Spokeswoman Maria Zakharova", language="en", languages=["en"],
        published_at=datetime(2024, 1, 1, 12, 0, tzinfo=MOSCOW), location="Moscow", section="briefings",
        url="https://mid.ru/en/press_service/spokesman/briefings/1/", body="Question: Why?\nMaria Zakharova: Because.",
        turns=[Turn(speaker="Question", role="question", text="Why?"),
               Turn(speaker="Maria Zakharova", role="answer", text="Because.")],
        speakers=["Maria Zakharova"], source="test#export")
    doc = orjson.loads(writer.document_json(template, doc_version=1, indexed_at=datetime.now(timezone.utc)))
    for start in range(0, N, 5000):
        actions = [{"_index": alias, "_id": f"export-{n}",
                    "_source": {**doc, "url": f"https://mid.ru/en/press_service/spokesman/briefings/{n}/"}}
                   for n in range(start, min(N, start + 5000))]
        writer.bulk_write(es, actions, what="test export documents", retry_window=60)
    es.indices.refresh(index=alias)
    assert es.count(index=alias)["count"] == N
    return alias


def test_csv_and_json_exports_have_every_match_and_a_big_page_is_a_clear_error(settings, many_answers):
    done = run_cli("search", "--speaker", "Zakharova", "--role", "answer", "--all", "--format", "csv",
                   alias=many_answers, settings=settings)
    assert done.returncode == 0, done.stderr[-2000:]
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    assert len(rows) == N
    assert len({r["doc_id"] for r in rows}) == N
    assert {(r["speaker"], r["role"]) for r in rows} == {("Maria Zakharova", "answer")}

    done = run_cli("search", "--speaker", "Zakharova", "--format", "json", alias=many_answers, settings=settings)
    assert done.returncode == 0, done.stderr[-2000:]
    out = json.loads(done.stdout)
    assert out["total"] == N and len({h["doc_id"] for h in out["hits"]}) == N

    done = run_cli("search", "--speaker", "Zakharova", "--size", "20000", alias=many_answers, settings=settings)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and "--format csv" in done.stderr
