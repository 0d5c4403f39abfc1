"""``mfa-ingest check-site``: the site against the profile, section by section (pipeline/crawl/sitecheck.py)."""

from __future__ import annotations

import json
from typing import Annotated, Optional

import typer

from pipeline.cli._app import app
from pipeline.cli._common import run_context


@app.command("check-site")
def check_site(
    base_url: Annotated[Optional[str], typer.Option(help="site to check (default: the profile's, or MFA_CRAWL_BASE_URL)")] = None,
    section: Annotated[Optional[list[str]], typer.Option("--section", help="profile section (repeatable; default: all of the current site)")] = None,
    language: Annotated[Optional[list[str]], typer.Option("--language", help="language code (repeatable)")] = None,
    articles: Annotated[int, typer.Option(help="articles fetched per section and language")] = 2,
    json_report: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
) -> None:
    """Fetch the first listing page and a few articles of each section politely; print what the profile's
    selectors found, save the responses to a WARC, exit 1 naming the selector when a section yields nothing
    or a firm field (title, date, text) is missing.

    Example: mfa-ingest check-site --base-url https://mid.ru --section briefings --language en
    """
    from pipeline.crawl.sitecheck import run_check, table_lines
    with run_context(crawl_base_url=base_url or None) as ctx:
        report = run_check(ctx, sections=section or None, languages=language or None, articles=articles)
    if json_report:
        typer.echo(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        for line in table_lines(report):
            typer.echo(line)
    raise typer.Exit(0 if report["ok"] else 1)
