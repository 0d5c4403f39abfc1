"""Stage run: wires sources -> extract -> index as one stream and keeps the report.

Every input either becomes an indexed document or a Failure that goes to the
dead-letter stores (a JSON-lines file, and the dead-letter index) and to the run
report; one bad input never stops the run. Memory stays bounded: each stage is a
generator and the indexer sends fixed-size bulk chunks.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Callable, Iterable, Iterator

from . import index as es_index
from .deadletter import DeadLetterFile
from .errors import PipelineError
from .extract import extract_record
from .profile import SiteProfile, get_profile
from .records import Failure, Page, Transcript
from .report import RunReport
from .settings import Settings, get_settings
from .sources import iter_dump_folder

log = logging.getLogger(__name__)

Item = Page | Failure


def transform(items: Iterable[Item], profile: SiteProfile, report: RunReport | None = None) -> Iterator[Transcript | Failure]:
    """Extract every Page into a Transcript; pass Failures through; turn errors into Failures."""
    for item in items:
        if isinstance(item, Failure):
            yield item
            continue
        if report is not None:
            report.read += 1
        try:
            record = extract_record(item, profile)
        except PipelineError as exc:
            yield Failure(source=item.source, url=item.url, stage=exc.stage, reason=exc.reason, raw=item.content)
            continue
        except Exception as exc:  # a bug on one page must not end the run; keep the page
            log.exception("unexpected error extracting %s", item.source)
            yield Failure(source=item.source, url=item.url, stage="extract",
                          reason=f"unexpected {type(exc).__name__}: {exc}", raw=item.content)
            continue
        if report is not None:
            report.extracted += 1
        yield record


def divert_failures(items: Iterable[Transcript | Failure], on_failure: Callable[[Failure], None]) -> Iterator[Transcript]:
    """Yield the records; hand every Failure to ``on_failure`` as it passes."""
    for item in items:
        if isinstance(item, Failure):
            on_failure(item)
        else:
            yield item


class FailureSink:
    """Where failures go: the report, the dead-letter file, the dead-letter index."""

    def __init__(self, report: RunReport, settings: Settings, es=None, echo: Callable[[str], None] | None = None):
        self.report = report
        self.file = DeadLetterFile(settings.deadletter_dir, report.name)
        self.index_sink = es_index.dead_letter_sink(es, settings) if es is not None else None
        self.echo = echo

    def __call__(self, failure: Failure) -> None:
        self.report.record_failure(failure)
        self.file.write(failure)
        if self.index_sink is not None:
            self.index_sink(failure)
        if self.echo is not None:
            self.echo(f"error: {failure.one_line()}")


def ingest(
    items: Iterable[Item],
    *,
    settings: Settings | None = None,
    profile: SiteProfile | None = None,
    index: str | None = None,
    report: RunReport | None = None,
    es=None,
    echo: Callable[[str], None] | None = None,
) -> RunReport:
    """Run pages through extraction into Elasticsearch; return the report.

    ``index`` is the write target (default: the read alias, created with its
    first versioned index from the template when missing).
    """
    settings = settings or get_settings()
    profile = profile or get_profile(settings.site_profile_path)
    report = report or RunReport(name="ingest")
    es = es if es is not None else es_index.connect(settings)
    target = index or es_index.ensure_index(es, settings)
    sink = FailureSink(report, settings, es=es, echo=echo)
    records = divert_failures(transform(items, profile, report), sink)
    for outcome in es_index.index_records(es, records, index=target, settings=settings):
        if outcome.status == "created":
            report.new += 1
        elif outcome.status == "updated":
            report.updated += 1
        elif outcome.status == "unchanged":
            report.unchanged += 1
        else:
            sink(Failure(source=outcome.source or outcome.doc_id, stage="index", reason=outcome.reason or "refused"))
    es_index.refresh(es, target)
    report.extra["index"] = target
    if sink.file.count:
        report.extra["deadletter_file"] = str(sink.file.path)
    return report.finish()


def ingest_folder(path: Path | str | Iterable[Path | str], **kwargs) -> RunReport:
    """Ingest a folder of text dumps or saved HTML pages (the bundled sample, old scrapes)."""
    kwargs.setdefault("report", RunReport(name="archive-ingest"))
    return ingest(iter_dump_folder(path), **kwargs)
