"""Commands that run the main job: ``ingest`` (folders of saved pages) and ``settings``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from pipeline.cli._app import app


def echo_err(line: str) -> None:
    typer.echo(line, err=True)


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="folders (or files) of saved pages: text dumps or HTML")],
    index: Annotated[Optional[str], typer.Option(help="write target (default: the read alias)")] = None,
    json_report: Annotated[bool, typer.Option("--json", help="print the run report as JSON")] = False,
) -> None:
    """Extract, validate and index saved pages; one error line per bad file, the rest still indexed."""
    from pipeline.ingest import ingest_archive

    report = ingest_archive(paths, index=index, echo=echo_err)
    if json_report:
        typer.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
    else:
        for line in report.summary_lines()[:3]:
            typer.echo(line)
    raise typer.Exit(1 if report.failed else 0)


@app.command("settings")
def show_settings() -> None:
    """Print the effective settings (from MFA_* variables), secrets masked."""
    from urllib.parse import urlsplit

    from pipeline.settings import get_settings

    data = json.loads(get_settings().model_dump_json())
    # A URL may carry user:password; the SecretStr fields are already masked.
    parts = urlsplit(data["es_url"])
    if parts.password:
        data["es_url"] = parts._replace(netloc=f"{parts.username}:**********@{parts.hostname}"
                                        + (f":{parts.port}" if parts.port else "")).geturl()
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))
