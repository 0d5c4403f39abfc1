"""Command ``history``: every version of one document, oldest first."""

from __future__ import annotations

import json
from typing import Annotated, Optional

import typer

from pipeline.cli._app import app


@app.command()
def history(
    ref: Annotated[str, typer.Argument(help="a document id, or any URL that reached the document")],
    index: Annotated[Optional[str], typer.Option(help="alias to read (default: the live alias)")] = None,
    json_lines: Annotated[bool, typer.Option("--json", help="one JSON object per version and line, with its text")] = False,
) -> None:
    """Print every version of a document, oldest first.

    Example: mfa-ingest history https://mid.ru/en/foreign_policy/news/1817060/ --json
    """
    from pipeline.errors import ConfigError
    from pipeline.settings import get_settings
    from pipeline.store.client import connect
    from pipeline.store.history import history as versions_of

    settings = get_settings()
    with connect(settings) as es:
        try:
            versions = versions_of(es, index or settings.index_alias, ref)
        except ConfigError as exc:
            typer.echo(f"error: {exc.reason}", err=True)
            raise typer.Exit(1)
    for version in versions:
        if json_lines:
            typer.echo(json.dumps(version, ensure_ascii=False))
        else:
            typer.echo(f"v{version['doc_version']}  first seen {version['first_seen']}  last seen {version['last_seen']}"
                       f"  {len(version['body'].split())} words  {version['content_hash'][:12]}  {version['source']}")
    if not versions:
        typer.echo("no kept version", err=True)
        raise typer.Exit(1)
