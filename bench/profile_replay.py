"""Profile of the replay path, stage by stage: where each page's time goes.

    .venv/bin/python bench/profile_replay.py [--pages 2000] [--cprofile 25]

Writes a synthetic WARC (bench/replay_bench.py's pages), then replays it in this
process through the one ingest path (``ingest.ingest`` into a fresh alias) with a
timer around each stage's function. Prints, per page, the CPU time of the thread
that ran the stage and its wall time (ms): WARC read, decode, parse, selectors (the
layout's CSS look-ups and the text walk), clean, dates/turns, validate, provenance,
serialise (bulk bodies), look-ups (the chunk's search + mget) and bulk (the _bulk
requests). Times are exclusive: a stage called inside another counts only for
itself. Look-ups and bulk run in the writer's thread, beside extraction, so their wall
time overlaps it. ``--cprofile N`` also prints the N costliest functions of
extraction alone (cProfile, one pass over the pages, no Elasticsearch).

Elasticsearch: MFA_ES_URL; the indices are named mfa-bench-* and deleted at the end.
Figures only: nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import functools
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import replay_bench  # noqa: E402

# (module, function name, stage). Patched where they are looked up (the caller's module).
STAGES = [
    ("pipeline.extract.document", "decode_page", "decode"),
    ("pipeline.extract.document", "parse_html", "parse"),
    ("pipeline.extract.extractor", "read_html", "selectors"),
    ("pipeline.extract.extractor", "read_head", "clean"),
    ("pipeline.extract.extractor", "take_translation_note", "clean"),
    ("pipeline.extract.extractor", "scan_head_lines", "clean"),
    ("pipeline.extract.extractor", "clean_lines", "clean"),
    ("pipeline.extract.extractor", "is_prose", "clean"),
    ("pipeline.extract.extractor", "title_tail", "dates/turns"),
    ("pipeline.extract.extractor", "detect_language", "dates/turns"),
    ("pipeline.extract.extractor", "split_turns", "dates/turns"),
    ("pipeline.extract.extractor", "_published_at", "dates/turns"),
    ("pipeline.extract.extractor", "_kind_of", "dates/turns"),
    ("pipeline.extract.extractor", "validate_record", "validate"),
    ("pipeline.ingest", "with_provenance", "provenance"),
    ("pipeline.store.writer", "document_json", "serialise"),
    ("pipeline.store.writer", "version_document", "serialise"),
    ("pipeline.store.writer", "_same_transcripts", "look-ups"),
    ("pipeline.store.writer", "_stored_state", "look-ups"),
    ("pipeline.store.writer", "_bulk_chunk", "bulk"),
]
ORDER = ["WARC read", "decode", "parse", "selectors", "clean", "dates/turns", "validate", "provenance",
         "serialise", "look-ups", "bulk", "other (main thread)"]

cpu: dict[str, float] = defaultdict(float)
wall: dict[str, float] = defaultdict(float)
_local = threading.local()


def _timed(fn, stage: str):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        stack = getattr(_local, "stack", None)
        if stack is None:
            stack = _local.stack = []
        stack.append([0.0, 0.0])  # time spent in timed stages called from here
        w0, c0 = time.perf_counter(), time.thread_time()
        try:
            return fn(*args, **kwargs)
        finally:
            dw, dc = time.perf_counter() - w0, time.thread_time() - c0
            inner_w, inner_c = stack.pop()
            wall[stage] += dw - inner_w
            cpu[stage] += dc - inner_c
            if stack:
                stack[-1][0] += dw
                stack[-1][1] += dc
    return wrapper


def _timed_pages(pages):
    """The WARC reader's pages, its own time counted as 'WARC read'."""
    it = iter(pages)
    while True:
        w0, c0 = time.perf_counter(), time.thread_time()
        try:
            page = next(it)
        except StopIteration:
            return
        finally:
            wall["WARC read"] += time.perf_counter() - w0
            cpu["WARC read"] += time.thread_time() - c0
        yield page


def install() -> None:
    import importlib

    for module, name, stage in STAGES:
        mod = importlib.import_module(module)
        setattr(mod, name, _timed(getattr(mod, name), stage))


def run(warc: Path, pages: int) -> tuple[float, float]:
    from pipeline.context import RunContext
    from pipeline.ingest import ingest
    from pipeline.report import RunReport
    from pipeline.settings import Settings
    from pipeline.sources.archive import archive_pages

    prefix = f"mfa-bench-{uuid.uuid4().hex[:8]}"
    # One process: the stage timers are in this one (extraction workers would take the pages past
    # the first MFA_EXTRACT_WORKERS_AFTER out of their sight).
    settings = Settings(index_alias=f"{prefix}-profile", deadletter_index=f"{prefix}-deadletter", extract_workers=1,
                        state_dir=Path(tempfile.mkdtemp(prefix="mfa-profile-state-")))
    ctx = RunContext.build(settings, report=RunReport(name="profile"))
    profile, es = ctx.profile, ctx.es
    try:
        w0, c0 = time.perf_counter(), time.process_time()
        source = archive_pages([warc], max_bytes=settings.max_page_bytes, profile=profile)
        report = ingest(ctx, _timed_pages(source))
        total_wall, total_cpu = time.perf_counter() - w0, time.process_time() - c0
        assert report.new == pages, (report.new, report.failed)
    finally:
        replay_bench.cleanup(es, prefix)
    return total_wall, total_cpu


def cprofile_extraction(warc: Path, top: int) -> None:
    import cProfile
    import pstats

    from pipeline.context import RunContext
    from pipeline.ingest import extract_or_failure
    from pipeline.sources.archive import archive_pages

    ctx = RunContext.build()
    profile = ctx.profile
    pages = list(archive_pages([warc], max_bytes=ctx.settings.max_page_bytes, profile=profile))
    profiler = cProfile.Profile()
    profiler.enable()
    for page in pages:
        extract_or_failure(page, profile)
    profiler.disable()
    pstats.Stats(profiler).sort_stats("tottime").print_stats(top)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--cprofile", type=int, default=0, metavar="N")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mfa-profile-") as tmp:
        warc = Path(tmp) / "synthetic.warc.gz"
        replay_bench.write_warc(warc, args.pages)
        if args.cprofile:
            cprofile_extraction(warc, args.cprofile)
            return
        install()
        total_wall, total_cpu = run(warc, args.pages)
    n = args.pages
    main_cpu = sum(v for k, v in cpu.items() if k not in ("look-ups", "bulk"))
    print(f"replay of {n} synthetic pages: {total_wall:.1f} s wall, {n / total_wall:.0f} docs/s; "
          f"process CPU {1000 * total_cpu / n:.2f} ms/doc")
    print(f"{'stage':22} {'CPU ms/page':>12} {'wall ms/page':>13} {'share of CPU':>13}")
    rows = {k: (cpu[k], wall[k]) for k in ORDER if k in cpu}
    rows["other (main thread)"] = (max(0.0, total_cpu - main_cpu - cpu["look-ups"] - cpu["bulk"]), float("nan"))
    for stage in ORDER:
        if stage in rows:
            c, w = rows[stage]
            print(f"{stage:22} {1000 * c / n:12.3f} {1000 * w / n:13.3f} {100 * c / total_cpu:12.1f}%")


if __name__ == "__main__":
    main()
