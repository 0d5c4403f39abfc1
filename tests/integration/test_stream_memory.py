"""A stream of any length keeps nothing per input: a replay of 100,000 pages runs in flat memory.

Before: ``ingest`` (replays, backfill partitions) went through the Ingestor's map of every
input's outcome, kept for a caller that wanted it per batch (the crawler): 15-20 MB at
100,000 inputs, and a replay's RSS crept. Python allocations are traced while records with
long sources stream into the real node; what is allocated one chunk before the end may
exceed what was allocated three chunks in by far less than the sources read in between.

Some growth is not a leak: memory allocated inside pydantic's validation (where tracemalloc's
tracebacks end) that stops growing, like a bounded cache: about 200 bytes an input over the
first 8,000, then flat (2.75-3.05 MB of traced memory from 8,600 to 28,600 inputs in a
30,000-input run). Over this test's inputs that is 0.3-0.4 MB, against the 7 MB that
keeping each input's 4 KB source would add.
"""

from __future__ import annotations

import tracemalloc

from pipeline.context import RunContext
from pipeline.ingest import ingest

from tests.integration.test_index import make_record

CHUNKS = 12
SOURCE_CHARS = 4_000  # each input's source: a leak of one string per input is 4 KB a time


def _records(count: int, sample_at: tuple[int, int], samples: dict[int, int]):
    for n in range(count):
        if n in sample_at:
            samples[n] = tracemalloc.get_traced_memory()[0]
        yield make_record(n, source=f"/archive/{'a' * SOURCE_CHARS}/{n}.warc.gz#0")


def test_a_long_stream_keeps_nothing_per_input(es, settings, index_alias):
    chunk = settings.bulk_chunk_size
    count = CHUNKS * chunk
    # Both samples where a chunk starts (the one being gathered is empty), three chunks in
    # (the writer's threads, chunks in flight and client buffers exist) and one chunk before the end.
    early, late = 3 * chunk, (CHUNKS - 1) * chunk
    samples: dict[int, int] = {}
    tracemalloc.start()
    try:
        report = ingest(RunContext.build(settings), _records(count, (early, late), samples))
    finally:
        tracemalloc.stop()
    assert (report.read, report.new, report.failed) == (count, count, 0)
    grown = samples[late] - samples[early]
    # Kept per input, the sources alone would be (late - early) * SOURCE_CHARS: 6.4 MB at chunks of 200.
    assert grown < (late - early) * SOURCE_CHARS / 4, f"{grown / 2**20:.2f} MB more after {late - early} inputs"
