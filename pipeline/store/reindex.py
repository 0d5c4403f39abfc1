"""Blue/green rebuild of the transcripts index: build ``<alias>-vN+1``, check it, swap the alias.

Reads either the current index (every stored document is re-validated with the
current ``Transcript`` model) or archive inputs (pages from text-dump folders or
WARC files, run through the current extraction), and writes a new concrete index
created from the current template. The alias moves in one atomic
``_aliases`` call only when the check passes; the old index is kept so
``rollback`` can move the alias back.

Run it while no crawl writes to the alias: documents written to the old index
after the rebuild started would not be in the new one. Two guards: the writing
tasks of the DAGs (nightly crawl, backfill, reindex) share the Airflow pool
``mfa_index_writes`` of one slot, and the swap itself is refused when the old
index holds a document indexed after the build started (``writes_since``).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Iterable, Iterator

from elasticsearch import Elasticsearch, helpers

from pipeline.store import design
from pipeline.store import writer
from pipeline.errors import ConfigError, PipelineError
from pipeline.records import Failure, Page, Transcript, validate_record
from pipeline.report import RunReport
from pipeline.settings import Settings

log = logging.getLogger(__name__)

# Fields the indexer adds or the model computes: not inputs of a Transcript.
DERIVED_FIELDS = ("word_count", "content_hash", "doc_version", "indexed_at", "turn_count", "question_count")


def _version_pattern(alias: str) -> re.Pattern[str]:
    return re.compile(rf"^{re.escape(alias)}-v(\d+)$")


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
            "report": self.report.as_dict(),
        }


def versions(es: Elasticsearch, alias: str) -> list[tuple[int, str]]:
    """Existing concrete indices ``<alias>-vN``, oldest first."""
    pattern = _version_pattern(alias)
    names = es.indices.get(index=f"{alias}-v*", expand_wildcards="open,closed", ignore_unavailable=True).body
    found = [(int(m.group(1)), name) for name in names if (m := pattern.match(name))]
    return sorted(found)


def next_index_name(es: Elasticsearch, alias: str, settings: Settings) -> str:
    existing = versions(es, alias)
    declared = int(design.load_template(settings).get("version", 1))
    number = existing[-1][0] + 1 if existing else declared
    return design.versioned_name(alias, number)


def create_next_index(es: Elasticsearch, settings: Settings, alias: str, *, put_template: bool = True) -> str:
    """Put the current template (unless just put) and create the next versioned index, not yet behind the alias."""
    if put_template:
        design.put_template(es, settings, alias)
    name = next_index_name(es, alias, settings)
    es.indices.create(index=name)
    return name


def stored_records(es: Elasticsearch, index: str) -> Iterator[Transcript | Failure]:
    """Every document of ``index`` as a Transcript re-validated by the current model, or a Failure."""
    for hit in helpers.scan(es, index=index, query={"query": {"match_all": {}}}, size=500, preserve_order=False):
        source = {k: v for k, v in hit["_source"].items() if k not in DERIVED_FIELDS}
        try:
            yield validate_record(source, source=source.get("source"))
        except PipelineError as exc:
            yield Failure(source=source.get("source") or f"{index}/{hit['_id']}", stage=exc.stage,
                          reason=exc.reason, url=source.get("url"))


def swap_alias(es: Elasticsearch, alias: str, *, old: str | None, new: str) -> None:
    """Point the alias (read and write) at ``new`` in one atomic call."""
    actions: list[dict] = []
    if old is not None:
        actions.append({"remove": {"index": old, "alias": alias}})
    actions.append({"add": {"index": new, "alias": alias, "is_write_index": True}})
    es.indices.update_aliases(actions=actions)


def check_counts(old_count: int, new_count: int, *, min_ratio: float) -> str | None:
    """None when the new index may take over; else why not."""
    if new_count == 0 and old_count > 0:
        return f"new index is empty (old has {old_count})"
    if new_count < old_count * min_ratio:
        return f"new index has {new_count} documents, fewer than {min_ratio:.0%} of the old {old_count}"
    return None


def writes_since(es: Elasticsearch, index: str | None, since: datetime) -> int:
    """Documents of ``index`` indexed after ``since`` (each write stamps ``indexed_at``)."""
    if index is None:
        return 0
    es.indices.refresh(index=index)
    return int(es.count(index=index, query={"range": {"indexed_at": {"gt": since.isoformat()}}})["count"])


def check_no_writes(es: Elasticsearch, old: str | None, *, since: datetime) -> str | None:
    """None when ``old`` took no write since the build started; else why the swap would lose documents."""
    late = writes_since(es, old, since)
    if late:
        return (f"{old} received {late} writes after the build started at {since.isoformat()}; they are not in "
                "the new index (was a crawl running?): not swapping; rebuild when no crawl writes")
    return None


def check_build(es: Elasticsearch, *, old: str | None, new: str, since: datetime,
                min_ratio: float) -> tuple[int, int, str | None]:
    """(old count, new count, None when ``new`` may take over, else why not)."""
    old_count, new_count = _count(es, old), _count(es, new)
    problem = check_counts(old_count, new_count, min_ratio=min_ratio) or check_no_writes(es, old, since=since)
    return old_count, new_count, problem


def _count(es: Elasticsearch, index: str | None) -> int:
    if index is None:
        return 0
    es.indices.refresh(index=index)
    return int(es.count(index=index)["count"])


def _fill(es: Elasticsearch, settings: Settings, target: str, items: Iterable[Transcript | Failure],
          report: RunReport) -> None:
    from pipeline.ingest import FailureSink, divert_failures

    sink = FailureSink(report, settings, es=es)
    for outcome in writer.index_records(es, divert_failures(items, sink), index=target, settings=settings):
        if report.count_outcome(outcome.status):
            sink(Failure(source=outcome.source or outcome.doc_id, stage="index", reason=outcome.reason or "refused"))


def rebuild(
    es: Elasticsearch,
    settings: Settings,
    *,
    pages: Iterable[Page | Failure] | None = None,
    alias: str | None = None,
    min_ratio: float = 1.0,
    swap: bool = True,
) -> ReindexResult:
    """Build the next index from ``pages`` (archive) or from the current index; swap when the check passes.

    ``min_ratio``: the new index must hold at least this share of the old
    index's documents (1.0: no fewer). A failed check leaves the alias where it
    was and keeps the new index for inspection.
    """
    from pipeline.profile import get_profile
    from pipeline.ingest import transform

    alias = alias or settings.index_alias
    design.ensure_index(es, settings, alias=alias)
    old = design.write_index(es, alias)
    report = RunReport(name="reindex")
    new = create_next_index(es, settings, alias, put_template=False)  # ensure_index just put it
    if pages is None:
        report.extra["from"] = old or ""
        items: Iterable[Transcript | Failure] = stored_records(es, old) if old else []
    else:
        report.extra["from"] = "archive"
        items = transform(pages, get_profile(settings.site_profile_path), report, workers=settings.extract_workers)
    _fill(es, settings, new, items, report)
    report.finish()
    old_count, new_count, problem = check_build(es, old=old, new=new, since=report.started_at, min_ratio=min_ratio)
    swapped = False
    if problem is None and swap:
        swap_alias(es, alias, old=old, new=new)
        swapped = True
        log.info("alias %s: %s -> %s (%d documents)", alias, old, new, new_count)
    elif problem is not None:
        log.error("alias %s stays on %s: %s", alias, old, problem)
    return ReindexResult(alias=alias, old_index=old, new_index=new, old_count=old_count, new_count=new_count,
                         swapped=swapped, check=problem or "ok", report=report)


def rollback(es: Elasticsearch, settings: Settings, *, alias: str | None = None, to: str | None = None) -> tuple[str, str]:
    """Move the alias back to the previous kept version (or to ``to``); return (from, to)."""
    alias = alias or settings.index_alias
    current = design.write_index(es, alias)
    if current is None:
        raise ConfigError(f"alias {alias!r} points nowhere")
    if to is None:
        older = [name for number, name in versions(es, alias) if name != current
                 and number < _version_of(alias, current)]
        if not older:
            raise ConfigError(f"no version of {alias!r} older than {current} is kept")
        to = older[-1]
    elif not es.indices.exists(index=to):
        raise ConfigError(f"index {to!r} does not exist")
    swap_alias(es, alias, old=current, new=to)
    return current, to


def archive_pages(paths: Iterable[Path | str], *, profile=None) -> Iterator[Page | Failure]:
    """Pages of archive inputs: text-dump folders (or files), WARC files and folders of them, in the order given.

    WARC files are read by the crawler's reader (sources/warc.py); with a site
    profile only article pages are kept (no listings, feeds, robots.txt).
    """
    from pipeline.sources import iter_dump_folder
    from pipeline.sources.warc import expand_archive_inputs, iter_warc

    for item in expand_archive_inputs(paths):  # a folder of WARC files is read as WARC, file by file
        if item.kind == "warc":
            yield from iter_warc([item.path], profile=profile)
        else:
            yield from iter_dump_folder(item.path)


def _version_of(alias: str, name: str) -> int:
    m = _version_pattern(alias).match(name)
    return int(m.group(1)) if m else 0
