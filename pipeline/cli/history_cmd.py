"""Commands of the document ledger: ``history`` (every version of a document), ``redrive``
(dead letters back through the ingest path) and ``prune-deadletters`` (old resolved letters)."""

from __future__ import annotations

import json
from typing import Annotated, Optional

import typer

from pipeline.cli._common import (AllowFailuresOpt, IndexOpt, JsonOpt, check_allowance, command, finish_run,
                                  run_context)


@command()
def history(
    ref: Annotated[str, typer.Argument(help="a document id, any URL that reached the document, or a dump file "
                                            "that brought it")],
    index: IndexOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object per version and line, with its text")] = False,
    diff: Annotated[bool, typer.Option("--diff", help="under each version, the paragraphs it removed (-) and "
                                                      "added (+) against the version before it")] = False,
) -> None:
    """Print every version of a document, oldest first.

    Example: mfa-ingest history https://mid.ru/en/foreign_policy/news/1817060/ --json

    Example: mfa-ingest history sample/dumps/000_dcbbeb771279dad1.txt --diff
    """
    from pipeline.store.history import history as versions_of

    with run_context() as ctx:
        versions = versions_of(ctx.es, index or ctx.settings.index_alias, ref)
    before = text = None  # the entry listed before; the document's text before (the last numbered version)
    for version in versions:
        if as_json:
            typer.echo(json.dumps(version, ensure_ascii=False))
            continue
        typer.echo(f"{_number(version)}  first seen {version['first_seen']}  last seen {version['last_seen']}"
                   f"  {len(version['body'].split())} words  {version['content_hash'][:12]}  {version['source']}")
        numbered = version.get("doc_version") is not None
        against = (text if numbered else before) or before  # v3 against v2, not an older replay's text between
        if diff and against is not None:
            for line in _changes(against, version):
                typer.echo(f"    {line}")
        before = version
        text = version if numbered else text
    if not versions:
        typer.echo("no kept version of that document", err=True)
        raise typer.Exit(1)


def _changes(before: dict, after: dict) -> list[str]:
    """The paragraphs (and the title) ``after`` removed and added against ``before``: difflib's
    unified diff without context, one line per changed paragraph."""
    import difflib

    def lines(version: dict) -> list[str]:
        return [f"title: {version.get('title')}"] + [p for p in version["body"].splitlines() if p.strip()]

    changed = [line for line in difflib.unified_diff(lines(before), lines(after), lineterm="", n=0)
               if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    return changed or ["(same text)"]


def _number(version: dict) -> str:
    """``v2``; a text the document never had (an older replay's) says when it was fetched."""
    if version.get("doc_version") is None:
        return f"earlier text (fetched {version.get('fetched_at') or 'at an unknown time'}, never indexed)"
    return f"v{version['doc_version']}"


@command()
def redrive(
    stage: Annotated[Optional[list[str]], typer.Option(
        "--stage", help="only dead letters of this stage (repeatable): source, fetch, extract, validate, index")] = None,
    limit: Annotated[int, typer.Option(help="at most this many dead letters, oldest first")] = 1000,
    index: IndexOpt = None,
    allow_failures: AllowFailuresOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Re-process open dead letters: from their kept bytes when the failure came after the fetch,
    by fetching them again otherwise; each is marked resolved with its outcome.

    Example: mfa-ingest redrive --stage index --stage extract
    """
    from pipeline.jobs.redrive import redrive as run_redrive

    check_allowance(allow_failures)
    with run_context("redrive") as ctx:
        result = run_redrive(ctx, index=index, stages=stage or None, limit=limit)
    if not as_json:
        for letter_id, resolution in result.resolved.items():
            typer.echo(f"{letter_id}: {resolution}", err=True)
        for letter_id, why in result.left_open.items():
            typer.echo(f"{letter_id}: left open: {why}", err=True)
        if result.skipped:
            typer.echo(f"{result.skipped} dead letters kept neither bytes nor a URL: left open", err=True)
    finish_run(result.report, as_json=as_json, allow_failures=allow_failures)


@command("prune-deadletters")
def prune_deadletters(
    older_than: Annotated[Optional[float], typer.Option(
        "--older-than", min=0, help="days since a letter was resolved (default: MFA_DEADLETTER_KEEP_RESOLVED_DAYS)")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="count them, delete nothing")] = False,
) -> None:
    """Delete the dead letters resolved more than --older-than days ago; open letters stay.

    Example: mfa-ingest prune-deadletters --older-than 30 --dry-run
    """
    from pipeline.store.deadletter import prune_resolved

    with run_context() as ctx:
        days = ctx.settings.deadletter_keep_resolved_days if older_than is None else older_than
        count = prune_resolved(ctx.es, ctx.settings, days, dry_run=dry_run)
    verb = "would be deleted" if dry_run else "deleted"
    typer.echo(f"{count} resolved dead letter(s) older than {days:g} days {verb}")
