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


class _Recorder:
    """A pool that runs each batch at once in this process and notes what was submitted,
    and a factory that notes whether the run asked for it."""

    def __init__(self):
        from pipeline import ingest

        ingest._init_worker(PROFILE)
        self.made = 0
        self.submitted = 0

    def __call__(self) -> "_Recorder":
        self.made += 1
        return self

    def submit(self, fn, *args):
        from concurrent.futures import Future

        self.submitted += 1
        future: Future = Future()
        future.set_result(fn(*args))
        return future


def test_a_stream_extracts_its_first_inputs_here_and_the_rest_in_the_workers():
    serial, serial_report = _run(1)
    items = _inputs()
    for after in (0, 5, len(items) - 1):
        pool = _Recorder()
        report = RunReport(name="t")
        outcomes = [_comparable(o) for o in transform(items, PROFILE, report, workers=2, batch_size=3, pool=pool,
                                                      workers_after=after)]
        assert outcomes == serial
        assert (report.read, report.extracted) == (serial_report.read, serial_report.extracted)
        assert pool.made == 1
        assert pool.submitted == -(-(len(items) - after) // 3)  # only what came after the first ``after``


def test_a_short_run_never_starts_the_workers():
    serial, _ = _run(1)
    pool = _Recorder()
    outcomes = [_comparable(o) for o in transform(_inputs(), PROFILE, workers=2, pool=pool,
                                                  workers_after=len(_inputs()))]
    assert outcomes == serial
    assert pool.made == 0 and pool.submitted == 0


def test_the_workers_extract_a_bulk_chunk_ahead_of_the_writer():
    """While the writer waits for the node it takes no record; the workers must have a chunk's
    worth of pages queued then, not two batches each, or they idle until it comes back."""
    pool = _Recorder()
    outcomes = transform(_inputs() * 4, PROFILE, workers=2, batch_size=2, pool=pool, ahead=20)
    next(outcomes)
    assert pool.submitted == 10  # 20 inputs ahead, in batches of 2, before the first record is handed over
    outcomes.close()
    pool = _Recorder()
    outcomes = transform(_inputs() * 4, PROFILE, workers=2, batch_size=2, pool=pool)
    next(outcomes)
    assert pool.submitted == 4  # without ``ahead``: two batches per worker
    outcomes.close()


def test_records_without_a_page_never_go_to_the_workers():
    """A rebuild from the index streams records, not pages: nothing to extract, so no process
    starts and no record makes the trip to a worker and back."""
    records = [o for o in transform(_inputs(), PROFILE) if isinstance(o, Transcript)]
    pool = _Recorder()
    report = RunReport(name="t")
    again = list(transform(records, PROFILE, report, workers=2, batch_size=3, pool=pool))
    assert [r.model_dump(mode="json") for r in again] == [r.model_dump(mode="json") for r in records]
    assert (report.read, report.extracted) == (len(records), len(records))
    assert pool.made == 0 and pool.submitted == 0
