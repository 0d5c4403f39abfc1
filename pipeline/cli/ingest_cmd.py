"""Commands that run the main job: ``ingest`` (folders of saved pages) and ``settings``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from pipeline.cli._common import (AllowFailuresOpt, IndexOpt, JsonOpt, ProgressOpt, check_allowance, command,
                                  finish_run, progress_for, run_context)


def echo_err(line: str) -> None:
    typer.echo(line, err=True)


@command()
def ingest(
    paths: Annotated[list[str], typer.Argument(
        help="folders (or files) of saved pages (text dumps or HTML), WARC files, corpus files "
             "(.csv, .jsonl: a transcript per row) or folders of them; paths or URLs (s3://...)")],
    yes: Annotated[bool, typer.Option("--yes", help="read the current, a home or the root folder, "
                                                    "or the state folder, all the same")] = False,
    index: IndexOpt = None,
    allow_failures: AllowFailuresOpt = None,
    progress: ProgressOpt = None,
    as_json: JsonOpt = False,
    columns: Annotated[str | None, typer.Option(
        help="corpus files (CSV, JSON lines): which column holds each field, FIELD=COLUMN,... "
             "(fields title, text, url, date, speaker; each defaults to its own name)")] = None,
) -> None:
    """Extract, validate and index saved pages; one error line per bad file or row, the rest still indexed.

    Example: mfa-ingest ingest sample/dumps old-scrapes/ --allow-failures 2%
    Example: mfa-ingest ingest lavrov.csv --columns text=transcript,date=day
    """
    from pipeline.model.errors import ConfigError
    from pipeline.ingest import ingest_archive
    from pipeline.sources.corpus import ColumnMap

    check_allowance(allow_failures)
    try:
        column_map = ColumnMap.parse(columns)
    except ConfigError as exc:
        raise typer.BadParameter(exc.reason, param_hint="--columns") from None
    with run_context("archive-ingest") as ctx, progress_for(progress) as shown:
        check_inputs(paths, ctx.settings.state_dir, yes=yes)
        report = ingest_archive(ctx, paths, index=index, echo=echo_err, progress=shown, columns=column_map)
    finish_run(report, as_json=as_json, allow_failures=allow_failures, lines=3)


def check_inputs(paths: list[str], state_dir: Path, *, yes: bool) -> None:
    """Refuse (exit 2) an input that is no archive: ``.``, a home, the root or the state folder
    without ``--yes``; an empty path and the node's own folder always."""
    from pipeline.sources.archive import unsafe_input

    for path in paths:
        found = unsafe_input(path, state_dir)
        if found is None or (yes and found[1]):
            continue
        why, overridable = found
        raise typer.BadParameter(f"{why}: not read" + ("; --yes reads it all the same" if overridable else ", never"),
                                 param_hint="PATHS")


@command("settings")
def show_settings() -> None:
    """Print the effective settings (from MFA_* variables), secrets masked.

    Example: MFA_ES_URL=http://127.0.0.1:9201 mfa-ingest settings
    """
    from pipeline.redact import redact
    from pipeline.settings import Settings

    data = json.loads(Settings().model_dump_json())  # only the settings: a broken profile must not hide them
    data["es_url"] = redact(data["es_url"])  # a URL may carry user:password; the SecretStr fields come out masked
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))
