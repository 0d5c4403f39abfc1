"""Blue/green rebuild of the transcripts index: build ``<alias>-vN+1``, check it, swap the alias.

Reads either the current index (every stored document is re-validated with the
current ``Transcript`` model) or archive inputs (text-dump folders or WARC files,
run through the current extraction), and writes, through the one ingest path, a
new concrete index created from the current template. The alias moves in one atomic
``_aliases`` call only when the check passes; the old index is kept so ``rollback``
can move the alias back. What documents accumulated (sources, URLs, first publication,
version count) is carried over from the old index. The index-version primitives are in
store/reindex.py.

Run it while no crawl writes to the alias: documents written to the old index
after the rebuild started would not be in the new one. Two guards: the writing
tasks of the DAGs (nightly crawl, backfill, reindex) share the Airflow pool
``mfa_index_writes`` of one slot, and the swap itself is refused when the old
index holds a document indexed after the build started (``writes_since``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Iterable

from pipeline.context import RunContext
from pipeline.ingest import ingest
from pipeline.model.records import Failure, Page, Transcript
from pipeline.report import RunReport
from pipeline.sources.archive import archive_pages
from pipeline.store import design
from pipeline.store.reindex import carry_provenance, check_build, create_next_index, stored_records, swap_alias

log = logging.getLogger(__name__)


@dataclass
class ReindexResult:
    alias: str
    old_index: str | None
    new_index: str
    old_count: int
    new_count: int
    swapped: bool
    check: str
    report: RunReport = field(repr=False, default_factory=lambda: RunReport(name="reindex"))

    @property
    def build_started_at(self) -> datetime:
        return self.report.started_at

    def as_dict(self) -> dict:
        return {
            "alias": self.alias, "old_index": self.old_index, "new_index": self.new_index,
            "old_count": self.old_count, "new_count": self.new_count, "swapped": self.swapped,
            "check": self.check, "build_started_at": self.build_started_at.isoformat(),
            "report": self.report.model_dump(mode="json"),
        }


def rebuild(
    ctx: RunContext,
    *,
    archive: Iterable[Path | str] | None = None,
    alias: str | None = None,
    min_ratio: float = 1.0,
    swap: bool = True,
    progress=None,
) -> ReindexResult:
    """Build the next index from ``archive`` inputs or from the current index; swap when the check passes.

    ``min_ratio``: the new index must hold at least this share of the old
    index's documents (1.0: no fewer). A failed check leaves the alias where it
    was and keeps the new index for inspection. ``progress``: a pipeline.progress.Progress
    counting the inputs (with a total when rebuilding from the current index).
    """
    settings, profile, es = ctx.settings, ctx.profile, ctx.es
    alias = alias or settings.index_alias
    design.ensure_index(es, settings, alias=alias, grow=False)  # the old index need not fit the design
    old = design.write_index(es, alias)
    report = ctx.run_report("reindex")
    new = create_next_index(es, settings, alias, put_template=False)  # ensure_index just put it
    if archive is None:
        report.extra["from"] = old or ""
        items: Iterable[Page | Failure | Transcript] = stored_records(es, old) if old else []
    else:
        report.extra["from"] = "archive"
        items = archive_pages(archive, max_bytes=settings.max_page_bytes, profile=profile)
    if progress is not None:
        total = design.count(es, old) if archive is None and old else None
        items = progress.track(items, "reindex: documents", total)
    # The one ingest path, writing to the new concrete index the template just shaped.
    ingest(ctx.for_run(report), items, index=new, prepared=True, keep_versions=False)
    lost = carry_provenance(es, old=old, new=new, retry_window=settings.es_retry_window) if old else 0
    old_count, new_count, problem = check_build(es, old=old, new=new, since=report.started_at, min_ratio=min_ratio)
    if lost and problem is None:
        problem = f"{lost} documents would lose their sources and first publication date (see the log)"
    swapped = False
    if problem is None and swap:
        swap_alias(es, alias, old=old, new=new)
        swapped = True
        log.info("alias %s: %s -> %s (%d documents)", alias, old, new, new_count)
    elif problem is not None:
        log.error("alias %s stays on %s: %s", alias, old, problem)
    return ReindexResult(alias=alias, old_index=old, new_index=new, old_count=old_count, new_count=new_count,
                         swapped=swapped, check=problem or "ok", report=report)
