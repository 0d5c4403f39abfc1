"""Extraction in worker processes gives what extraction in the calling process gives.

Same records, same failures (stage, reason, raw input), same order, same report
counts; Failures coming from a source pass through in their place.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.context import get_profile
from pipeline.model.records import Failure, Page, Transcript
from pipeline.report import RunReport
from pipeline.ingest import transform

ROOT = Path(__file__).resolve().parents[2]
PROFILE = get_profile()


def _inputs() -> list[Page | Failure]:
    items: list[Page | Failure] = []
    for path in sorted((ROOT / "sample/dumps").glob("*.txt")) + sorted((ROOT / "pipeline/data/eval").glob("*.html")):
        items.append(Page(source=str(path), content=path.read_bytes()))
    items[3:3] = [
        Page(source="empty", content=b""),
        Page(source="binary", content=b"\x00\x01\x02" * 100, url="https://mid.ru/en/x/1/"),
        Failure(source="listing?page=9", stage="source", reason="broken WARC record: EOFError"),
        Page(source="no-speech", content=b"<html><body><p>Share</p></body></html>", content_type="text/html"),
    ]
    return items


def _comparable(outcome: Transcript | Failure) -> tuple:
    if isinstance(outcome, Transcript):
        return ("record", outcome.model_dump(mode="json"), outcome.doc_id)
    return ("failure", outcome.source, outcome.url, outcome.stage, outcome.reason, outcome.raw)


def _run(workers: int) -> tuple[list[tuple], RunReport]:
    report = RunReport(name="t")
    outcomes = [_comparable(o) for o in transform(_inputs(), PROFILE, report, workers=workers, batch_size=3)]
    return outcomes, report


def test_parallel_extraction_matches_serial():
    serial, serial_report = _run(1)
    parallel, parallel_report = _run(2)
    assert parallel == serial
    assert (parallel_report.read, parallel_report.extracted) == (serial_report.read, serial_report.extracted)
    kinds = [o[0] for o in serial]
    assert kinds.count("failure") >= 4 and kinds.count("record") >= 10  # both paths really exercised
    assert serial[5][1:] == ("listing?page=9", None, "source", "broken WARC record: EOFError", None)


def test_parallel_extraction_stops_cleanly_when_abandoned():
    outcomes = transform(_inputs() * 5, PROFILE, workers=2, batch_size=2)
    first = next(outcomes)
    outcomes.close()  # the consumer gives up: the pool is shut down, nothing hangs
    assert isinstance(first, Transcript)
