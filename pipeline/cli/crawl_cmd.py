"""Commands of the crawling group: ``crawl``, ``replay`` and ``replica`` (the local site for demos)."""

from __future__ import annotations

import json
import time
from datetime import datetime
from pathlib import Path
from typing import Annotated, Optional

import typer

from pipeline.cli._app import app

DATE = ["%Y-%m-%d"]


def _print(report, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
    else:
        for line in report.summary_lines():
            typer.echo(line)


@app.command()
def crawl(
    since: Annotated[Optional[datetime], typer.Option(formats=DATE, help="backfill from this day (YYYY-MM-DD)")] = None,
    until: Annotated[Optional[datetime], typer.Option(formats=DATE, help="backfill up to this day (YYYY-MM-DD)")] = None,
    section: Annotated[Optional[list[str]], typer.Option("--section", help="crawl section (repeatable)")] = None,
    language: Annotated[Optional[list[str]], typer.Option("--language", help="language code (repeatable)")] = None,
    index: Annotated[Optional[str], typer.Option(help="write alias (default: the live alias)")] = None,
    json_report: Annotated[bool, typer.Option("--json", help="print the run report as JSON")] = False,
) -> None:
    """Crawl the site: nightly (newest first, stop at known documents) or a --since/--until backfill."""
    from pipeline.crawl.crawler import run_crawl
    from pipeline.profile import get_profile
    from pipeline.settings import get_settings

    settings = get_settings()
    report = run_crawl(settings, get_profile(settings.site_profile_path),
                       since=since.date() if since else None, until=until.date() if until else None,
                       sections=section or None, languages=language or None, index=index)
    _print(report, json_report)
    verdict = report.extra.get("verdict")  # blocked responses dominated the run (crawl/blocked.py)
    if verdict:
        typer.echo(str(verdict), err=True)
        raise typer.Exit(1)


@app.command()
def replay(
    warcs: Annotated[list[Path], typer.Argument(help="WARC files or folders of them (ours, wget's, ...)")],
    index: Annotated[Optional[str], typer.Option(help="write alias (default: the live alias)")] = None,
    any_url: Annotated[bool, typer.Option("--any-url", help="take every HTML page of the site's hosts, not only article URLs")] = False,
    json_report: Annotated[bool, typer.Option("--json", help="print the run report as JSON")] = False,
) -> None:
    """Rebuild an index from archived responses, without crawling again; records not taken are counted by reason."""
    from pipeline.ingest import ingest_archive
    from pipeline.report import RunReport

    report = ingest_archive(warcs, index=index, report=RunReport(name="replay"),
                            echo=lambda line: typer.echo(line, err=True), any_url=any_url)
    _print(report, json_report)
    raise typer.Exit(1 if report.failed else 0)


@app.command()
def replica(
    port: Annotated[int, typer.Option(help="port of the current site (0: any free port)")] = 0,
    archive_port: Annotated[int, typer.Option(help="port of the archive portal (0: any free port)")] = 0,
    faults: Annotated[Optional[str], typer.Option(
        help="comma-separated fault sets: 500, 429, slow, down, blocked, drift, template")] = None,
) -> None:
    """Serve the local replica of mid.ru and archive.mid.ru (pipeline/replica) until Ctrl-C.

    Its items are dated relative to today, so a nightly crawl against a fresh replica finds new ones.

    Example: mfa-ingest replica --port 8800 --faults blocked
    """
    from pipeline.replica.server import FAULTS, Replica, apply_faults

    server = Replica()
    try:
        apply_faults(server, [f.strip() for f in (faults or "").split(",") if f.strip()])
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--faults") from None
    server.start(port=port, archive_port=archive_port)
    typer.echo(f"current site:  {server.base_url}\narchive portal: {server.archive_url}\n")
    for name in (faults or "").split(","):
        if name.strip():
            typer.echo(f"fault {name.strip()}: {FAULTS[name.strip()]}")
    typer.echo("point a crawl at it with:")
    typer.echo(f"  export MFA_CRAWL_BASE_URL={server.base_url} MFA_CRAWL_ARCHIVE_URL={server.archive_url}")
    typer.echo("  export MFA_CRAWL_ALLOWED_PRIVATE_HOSTS='[\"127.0.0.1\"]'")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()
