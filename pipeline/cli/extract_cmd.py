"""Commands ``extract`` (files or stdin -> one JSON record per line) and ``eval``.

The JSON shape printed by ``extract`` is the public record contract, described
in docs/extraction.md.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import typer

from pipeline.model.errors import ConfigError, PipelineError, SourceError
from pipeline.cli._common import command, run_context

if TYPE_CHECKING:
    from pipeline.model.records import Failure, Page
    from pipeline.profile import SiteProfile
    from pipeline.sources.corpus import ColumnMap

# The extraction, the records and the corpus reader are imported by the functions that use them:
# every start of mfa-ingest imports this module (to list and parse the commands), and they cost
# about 0.25 s of CPU per start that a search, stats or settings never needs.


def _read_bounded(stream: BinaryIO, limit: int) -> bytes:
    """At most limit + 1 bytes: enough for extract to refuse an oversized input
    without holding all of it in memory."""
    return stream.read(limit + 1)


def _read_input(path: str, limit: int) -> bytes:
    if path == "-":
        return _read_bounded(sys.stdin.buffer, limit)
    try:
        with open(path, "rb") as handle:
            return _read_bounded(handle, limit)
    except OSError as exc:
        raise SourceError(f"cannot read: {exc.strerror or exc}") from None


def extract_one(path: str, profile: SiteProfile, url: str | None = None) -> dict[str, Any]:
    """The record of one input as a JSON-ready dict, or an error object; never raises."""
    from pipeline.model.records import Page

    source = "<stdin>" if path == "-" else path
    try:
        content = _read_input(path, profile.extraction.max_bytes)
    except PipelineError as exc:
        return {"error": exc.reason, "stage": exc.stage, "path": source}
    return extract_page(Page(source=source, content=content, url=url), profile)


def extract_page(page: Page | Failure, profile: SiteProfile) -> dict[str, Any]:
    """The record of one page (or the error object of a source's Failure); never raises."""
    from pipeline.extract.extractor import extract_record
    from pipeline.model.records import Failure

    if isinstance(page, Failure):
        return {"error": page.reason, "stage": page.stage, "path": page.source}
    try:
        return extract_record(page, profile).model_dump(mode="json")
    except PipelineError as exc:
        return {"error": exc.reason, "stage": exc.stage, "path": page.source}
    except Exception as exc:  # one bad input must not stop the others; say what happened
        return {"error": f"unexpected {type(exc).__name__}: {exc}", "stage": "extract", "path": page.source}


def extract_many(path: str, profile: SiteProfile, url: str | None, columns: ColumnMap) -> list[dict[str, Any]]:
    """One result per input: a corpus file (CSV, JSON lines) gives one per row, any other file one."""
    from pipeline.sources.corpus import is_corpus_name, iter_corpus

    if path != "-" and is_corpus_name(path):
        return [extract_page(item, profile) for item in
                iter_corpus(path, columns, max_bytes=profile.extraction.max_bytes)]
    return [extract_one(path, profile, url)]


@command()
def extract(
    paths: list[str] = typer.Argument(..., help="Files to extract (HTML or text dumps); '-' reads stdin."),
    url: str | None = typer.Option(None, "--url", help="Source URL of the input (sets `url`, helps the language)."),
    pretty: bool = typer.Option(False, "--pretty", help="Indented JSON instead of one object per line."),
    profile_path: Path | None = typer.Option(None, "--profile", help="Site profile (default: config/site.yaml)."),
    columns: str | None = typer.Option(None, "--columns", help="corpus files (.csv, .jsonl): FIELD=COLUMN,... "
                                       "as for ingest (fields title, text, url, date, speaker)"),
) -> None:
    """Print one JSON record per input (per row of a corpus file); a JSON error object for an input that gives none.

    Example: mfa-ingest extract sample/dumps/000_dcbbeb771279dad1.txt --pretty
    Example: mfa-ingest extract lavrov.csv --columns text=transcript
    """
    from pipeline.sources.corpus import ColumnMap

    try:
        column_map = ColumnMap.parse(columns)
    except ConfigError as exc:
        raise typer.BadParameter(exc.reason, param_hint="--columns") from None
    profile = run_context(site_profile=profile_path).profile
    failed = total = 0
    for path in paths:
        for result in extract_many(path, profile, url, column_map):
            total += 1
            failed += "error" in result
            typer.echo(json.dumps(result, ensure_ascii=False, indent=2 if pretty else None))
    if failed:
        typer.echo(f"{failed} of {total} inputs gave no record", err=True)
        raise typer.Exit(code=1)


def _cell(score, *, fields: bool = True) -> list[str]:
    if score is None:
        return ["", "", "", ""]
    kept = f"{score.paragraphs_kept}/{score.paragraphs_total}"
    if score.error:
        kept += f" ({score.error})"
    right = f"{score.fields_right}/{score.fields_total}" if fields else ""
    if score.wrong_fields:
        right += " ✗" + ",".join(score.wrong_fields)
    return [kept, str(score.boilerplate_left), str(score.other_lines), right]


def _eval_search(profile_path: Path | None, as_json: bool) -> None:
    """eval --search: the judged query set on the node (pipeline/data/search/judged.yaml)."""
    from rich.console import Console
    from rich.table import Table

    from pipeline.evaluation.search_eval import MODES, RECORDED, evaluate_search
    from mfa_replica.server import article_pages

    with run_context(site_profile=profile_path) as ctx:
        figures = evaluate_search(ctx.es, ctx.settings, ctx.profile, article_pages())
    if as_json:
        typer.echo(json.dumps({mode: {lang: f.as_dict() for lang, f in per.items()} for mode, per in figures.items()},
                              ensure_ascii=False, indent=2))
        return
    table = Table(title="Search on the judged queries (recall@10, MRR; queries that must find nothing)")
    for column in ("language", "queries", "recall@10 language fields", "MRR language fields",
                   "recall@10 standard", "MRR standard", "non-relevant in first 10 (language, standard)",
                   "nothing found as judged", "recorded floor"):
        table.add_column(column)
    for lang in figures[MODES[0]]:
        ours, base = figures["language"][lang], figures["standard"][lang]
        table.add_row(lang, str(ours.queries), f"{ours.recall:.3f}", f"{ours.mrr:.3f}", f"{base.recall:.3f}",
                      f"{base.mrr:.3f}", f"{ours.non_relevant}, {base.non_relevant}", f"{ours.empty_ok}/{ours.empty}",
                      f"{RECORDED.get(lang, 0):.2f}")
    Console(width=200).print(table)
    for lang, fig in figures["language"].items():
        for miss in fig.misses:
            typer.echo(f"  {lang} miss: {miss}")


@command(name="eval")
def eval_command(
    cases: list[Path] = typer.Option(None, "--cases", help="Folders of *.expected.json (default: the labelled set in pipeline/data)."),
    as_json: bool = typer.Option(False, "--json", help="Print the figures as JSON."),
    profile_path: Path | None = typer.Option(None, "--profile", help="Site profile (default: config/site.yaml)."),
    search_set: bool = typer.Option(False, "--search", help="Measure search instead: the judged queries on the "
                                    "node, recall@10 and MRR per language, beside the standard analyzer's."),
) -> None:
    """Measure extraction on the labelled set, with trafilatura's output on the HTML cases beside ours.

    Example: mfa-ingest eval --json > eval.json

    Example: mfa-ingest eval --search
    """
    if search_set:
        _eval_search(profile_path, as_json)
        return
    from dataclasses import asdict

    from rich.console import Console
    from rich.table import Table

    from pipeline.evaluation.evaluate import DEFAULT_CASE_DIRS, evaluate, totals

    results = evaluate(run_context(site_profile=profile_path).profile, tuple(cases) if cases else DEFAULT_CASE_DIRS)
    ours, ours_html, theirs = totals(results)
    if as_json:
        typer.echo(json.dumps({"cases": [asdict(r) for r in results],
                               "total": {"ours": asdict(ours), "ours_html": asdict(ours_html),
                                         "trafilatura_html": asdict(theirs)}}, ensure_ascii=False, indent=2))
        return
    table = Table(title="Extraction on the labelled set (paragraphs kept / boilerplate lines left / "
                        "other non-speech lines / metadata fields right)")
    for column in ("case", "kind", "ours kept", "ours boiler", "ours other", "ours fields",
                   "traf kept", "traf boiler", "traf other", "traf fields"):
        table.add_column(column)
    for result in results:
        table.add_row(result.name, result.kind, *_cell(result.ours), *_cell(result.trafilatura))
    table.add_section()
    table.add_row("TOTAL all cases", "", *_cell(ours), "", "", "", "")
    table.add_row("TOTAL html cases", "html", *_cell(ours_html), *_cell(theirs))
    Console(width=200).print(table)
    fields = Table(title="Metadata per field: precision / recall (ours on all cases; trafilatura on the HTML cases)")
    for column in ("field", "ours precision", "ours recall", "traf precision", "traf recall"):
        fields.add_column(column)
    for name in sorted(set(ours.per_field) | set(theirs.per_field)):
        mine = ours.precision_recall(name) if name in ours.per_field else None
        other = theirs.precision_recall(name) if name in theirs.per_field else None
        fields.add_row(name, *(f"{v:.1%}" for v in mine or ()), *([""] * 2 if mine is None else []),
                       *(f"{v:.1%}" for v in other or ()), *([""] * 2 if other is None else []))
    Console(width=200).print(fields)
