"""Commands of the crawling group: ``crawl``, ``replay`` and ``replica`` (the local site for demos)."""

from __future__ import annotations

import json
import time
from datetime import datetime
from pathlib import Path
from typing import Annotated, Optional
from urllib.parse import urlsplit

import typer

from pipeline.cli._common import (
    AllowFailuresOpt,
    IndexOpt,
    JsonOpt,
    ProgressOpt,
    check_allowance,
    command,
    finish_run,
    progress_for,
    run_context,
)

DATE = ["%Y-%m-%d"]


def check_choices(profile, sections: list[str] | None, languages: list[str] | None) -> None:
    """Crawl sections by their profile names and languages the profile crawls, or BadParameter naming them."""
    names = [s.name for s in profile.crawl.sections]
    for name in sections or []:
        if name not in names:
            raise typer.BadParameter(f"{name!r} is not one of: {', '.join(names)}", param_hint="--section")
    for code in languages or []:
        if code not in profile.crawl.languages:
            raise typer.BadParameter(f"{code!r} is not one of: {', '.join(profile.crawl.languages)}",
                                     param_hint="--language")


@command()
def crawl(
    since: Annotated[Optional[datetime], typer.Option(
        formats=DATE, help="backfill from this Moscow day (YYYY-MM-DD, included)")] = None,
    until: Annotated[Optional[datetime], typer.Option(
        formats=DATE, help="backfill up to this Moscow day (YYYY-MM-DD, included)")] = None,
    section: Annotated[Optional[list[str]], typer.Option(
        "--section", help="crawl section by its profile name (repeatable)")] = None,
    language: Annotated[Optional[list[str]], typer.Option("--language", help="language code (repeatable)")] = None,
    source: Annotated[str, typer.Option(
        help="site (the site itself), wayback (the Wayback Machine or any pywb) or commoncrawl "
             "(docs/crawling.md, Backfilling from web archives)")] = "site",
    index: IndexOpt = None,
    allow_failures: AllowFailuresOpt = None,
    progress: ProgressOpt = None,
    as_json: JsonOpt = False,
    estimate: Annotated[bool, typer.Option(
        "--estimate", help="print how many requests the run would send and how long that takes; "
                           "lists (robots.txt, listing pages, feeds) but fetches no article and writes nothing")] = False,
) -> None:
    """Crawl the site: nightly (newest first, stop at known documents) or a --since/--until backfill;
    or backfill from a web archive's captures (--source wayback|commoncrawl).

    Exits 1 when any page failed (one line per failure class on stderr) or the site could not be crawled.

    Example: mfa-ingest crawl --section minister_speeches --since 2021-12-01 --until 2021-12-31
    Example: mfa-ingest crawl --source wayback --since 2021-12-01 --until 2021-12-31
    Example: mfa-ingest crawl --since 2021-01-01 --until 2021-12-31 --estimate
    """
    from pipeline.crawl.crawler import run_crawl
    from pipeline.crawl.webarchive import SOURCES, run_archive_crawl

    check_allowance(allow_failures)
    progress_for(progress)  # sets up the log lines when there is no bar
    if source not in SOURCES:
        raise typer.BadParameter(f"{source!r} is not one of: {', '.join(SOURCES)}", param_hint="--source")
    name = "crawl" if until is None and source == "site" else "backfill"
    with run_context(name, crawl_progress=progress) as ctx:
        check_choices(ctx.profile, section, language)
        dates = dict(since=since.date() if since else None, until=until.date() if until else None,
                     sections=section or None, languages=language or None, index=index)
        if estimate:
            if source != "site":
                raise typer.BadParameter("--estimate is for --source site", param_hint="--estimate")
            from pipeline.crawl.estimate import estimate_crawl

            found = estimate_crawl(ctx, **dates)
            typer.echo(json.dumps({"requests": found.requests, "discovery": found.discovery,
                                   "articles": found.articles, "revalidations": found.revalidations,
                                   "seconds": round(found.seconds, 1)})
                       if as_json else found.line())
            return
        if source == "site":
            report = run_crawl(ctx, **dates)
        else:
            report = run_archive_crawl(ctx, source=source, **dates)
    verdict = report.extra.get("verdict")  # blocked responses dominated the run (crawl/blocked.py)
    if verdict:
        typer.echo(str(verdict), err=True)
    finish_run(report, as_json=as_json, allow_failures=allow_failures, problems=report.crawl_problems())


@command()
def replay(
    warcs: Annotated[list[Path], typer.Argument(help="WARC files or folders of them (ours, wget's, ...)")],
    index: IndexOpt = None,
    any_url: Annotated[bool, typer.Option("--any-url", help="take every HTML page of the site's hosts, not only article URLs")] = False,
    allow_failures: AllowFailuresOpt = None,
    progress: ProgressOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Rebuild an index from archived responses, without crawling again; records not taken are counted by reason.

    Example: mfa-ingest replay .state/warc/ --index mfa-transcripts-replayed
    """
    from pipeline.ingest import ingest_archive

    check_allowance(allow_failures)
    with run_context("replay") as ctx, progress_for(progress) as shown:
        report = ingest_archive(ctx, warcs, index=index, progress=shown,
                                echo=lambda line: typer.echo(line, err=True), any_url=any_url)
    finish_run(report, as_json=as_json, allow_failures=allow_failures)


@command()
def replica(
    port: Annotated[int, typer.Option(help="port of the current site (0: any free port)")] = 0,
    archive_port: Annotated[int, typer.Option(help="port of the archive portal (0: any free port)")] = 0,
    faults: Annotated[Optional[str], typer.Option(
        help="comma-separated fault sets: 500, 429, slow, down, blocked, drift, template, edits")] = None,
) -> None:
    """Serve the local replica of mid.ru and archive.mid.ru (mfa_replica) until Ctrl-C.

    Its items are dated relative to today, so a nightly crawl against a fresh replica finds new ones.

    Example: mfa-ingest replica --port 8800 --faults blocked
    """
    from mfa_replica.server import FAULTS, Replica, apply_faults

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
    # The replica's two host:port pairs only: a private host is allowed on its own port, nothing else there.
    allowed = json.dumps([urlsplit(u).netloc for u in (server.base_url, server.archive_url)])
    typer.echo(f"  export MFA_CRAWL_ALLOWED_PRIVATE_HOSTS='{allowed}'")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()
