"""Output check for the extract and store stages: every record the pipeline makes of the
evaluation, sample and bench inputs, as JSON lines with sorted keys.

    .venv/bin/python bench/dump_records.py > /tmp/records.before.jsonl
    ... change the code ...
    .venv/bin/python bench/dump_records.py > /tmp/records.after.jsonl
    cmp /tmp/records.before.jsonl /tmp/records.after.jsonl   # must be identical

A speed-up must not change one byte of what is extracted or sent: this walks
pipeline/data/eval, pipeline/data/unseen and pipeline/data/seeds (as the evaluation
reads them, with the case's URL), the same files without a URL, the sample dumps and
the test WARC files (through the archive reader and ``ingest.transform``, so provenance is
in), the extract bench's pages and the replay bench's first synthetic pages. Each
record is dumped as ``model_dump(mode="json")`` and as the bulk body the writer sends
(``writer.document_json`` at a fixed indexing time); a page that gives no record is
dumped as its error. Needs no Elasticsearch.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from pipeline.model.errors import PipelineError  # noqa: E402
from pipeline.extract.extractor import extract_record  # noqa: E402
from pipeline.ingest import transform  # noqa: E402
from pipeline.context import RunContext  # noqa: E402
from pipeline.model.records import Failure, Page, Transcript  # noqa: E402
from pipeline.sources.archive import archive_pages  # noqa: E402
from pipeline.store.writer import document_json  # noqa: E402

FIXED_AT = datetime(2026, 1, 1, tzinfo=timezone.utc)
DATA = ROOT / "pipeline/data"


def _line(name: str, outcome) -> str:
    if isinstance(outcome, Transcript):
        body = json.loads(document_json(outcome, doc_version=1, indexed_at=FIXED_AT))
        return json.dumps({"name": name, "record": outcome.model_dump(mode="json"), "bulk": body,
                           "bulk_text": document_json(outcome, doc_version=1, indexed_at=FIXED_AT)},
                          sort_keys=True, ensure_ascii=False)
    if isinstance(outcome, Failure):
        return json.dumps({"name": name, "failure": [outcome.stage, outcome.reason, outcome.url]},
                          sort_keys=True, ensure_ascii=False)
    return json.dumps({"name": name, "error": str(outcome)}, sort_keys=True, ensure_ascii=False)


def _one(page: Page, profile):
    try:
        return extract_record(page, profile)
    except PipelineError as exc:
        return exc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--synthetic", type=int, default=300, help="replay-bench pages to include")
    args = parser.parse_args()
    ctx = RunContext.build()
    profile, settings = ctx.profile, ctx.settings
    out = sys.stdout
    for folder in ("eval", "unseen", "seeds"):
        for expected_path in sorted((DATA / folder).glob("*.expected.json")):
            expected = json.loads(expected_path.read_text(encoding="utf-8"))
            path = DATA / expected["input"]
            for url in dict.fromkeys([expected.get("url"), None]):
                page = Page(source=str(path.relative_to(ROOT)), content=path.read_bytes(), url=url)
                print(_line(f"{folder}/{path.name} url={url}", _one(page, profile)), file=out)
    for archive in (ROOT / "sample/dumps", *sorted((ROOT / "tests/fixtures/warc").glob("*.warc.gz"))):
        pages = archive_pages([archive], max_bytes=settings.max_page_bytes, profile=profile)
        for n, outcome in enumerate(transform(pages, profile)):
            print(_line(f"{archive.relative_to(ROOT)}#{n}", outcome), file=out)

    import extract_bench
    import replay_bench

    for n, content in enumerate(extract_bench.fixture_pages() + extract_bench.seed_pages()):
        print(_line(f"extract_bench#{n}", _one(Page(source=f"bench-{n}", content=content), profile)), file=out)
    synthetic = (Page(source=url, url=url, content=html.encode("utf-8"))
                 for url, html in replay_bench.synthetic_pages(args.synthetic))
    for n, outcome in enumerate(transform(synthetic, profile)):
        print(_line(f"replay_bench#{n}", outcome), file=out)


if __name__ == "__main__":
    main()
