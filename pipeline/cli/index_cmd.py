"""Commands on the index: ``reindex``, ``rollback``, ``search``, ``stats``, ``kibana-import``.

Thin: parse options, call pipeline.store.reindex / pipeline.store.search / pipeline.store.kibana,
print the result. Settings come from MFA_* variables.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Iterator, Optional

import typer

from pipeline.cli._app import app

if TYPE_CHECKING:
    from elasticsearch import Elasticsearch

    from pipeline.settings import Settings


@contextmanager
def _client() -> Iterator[tuple[Elasticsearch, Settings]]:
    """A client for the configured node with the settings; closed when the command is done."""
    from pipeline.store.client import connect
    from pipeline.settings import get_settings

    settings = get_settings()
    with connect(settings) as es:
        yield es, settings


@app.command()
def reindex(
    archive: Annotated[Optional[list[Path]], typer.Argument(
        help="archive inputs (text-dump folders, WARC files); none: rebuild from the current index")] = None,
    min_ratio: Annotated[float, typer.Option(help="the new index must hold at least this share of the old")] = 1.0,
    no_swap: Annotated[bool, typer.Option("--no-swap", help="build and check, leave the alias alone")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="print the result as JSON")] = False,
) -> None:
    """Build <alias>-vN+1 with the current code and mapping, check counts, swap the alias (old index kept)."""
    from pipeline.rebuild import rebuild

    with _client() as (es, settings):
        result = rebuild(es, settings, archive=archive or None, min_ratio=min_ratio, swap=not no_swap)
    if json_out:
        typer.echo(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
    else:
        typer.echo(f"{result.alias}: built {result.new_index} ({result.new_count} docs) from "
                   f"{result.report.extra.get('from') or 'nothing'}; old {result.old_index} ({result.old_count} docs)")
        typer.echo(f"check: {result.check}; alias {'now on ' + result.new_index if result.swapped else 'unchanged'}")
        for line in result.report.summary_lines()[1:]:
            typer.echo(line)
    raise typer.Exit(0 if result.check == "ok" else 1)


@app.command()
def rollback(
    to: Annotated[Optional[str], typer.Option(help="concrete index to point the alias at (default: previous)")] = None,
) -> None:
    """Point the alias back at the previous kept version of the index."""
    from pipeline.errors import ConfigError
    from pipeline.store.reindex import rollback as do_rollback

    try:
        with _client() as (es, settings):
            old, new = do_rollback(es, settings, to=to)
    except ConfigError as exc:
        typer.echo(f"error: {exc.reason}", err=True)
        raise typer.Exit(1)
    typer.echo(f"{settings.index_alias}: {old} -> {new}")


@app.command()
def search(
    query: Annotated[Optional[str], typer.Argument(help="words to look for")] = None,
    speaker: Annotated[Optional[str], typer.Option(help="only turns by this speaker")] = None,
    role: Annotated[Optional[str], typer.Option(help="only turns of this role: statement, question, answer")] = None,
    since: Annotated[Optional[datetime], typer.Option("--from", help="published on or after")] = None,
    until: Annotated[Optional[datetime], typer.Option("--to", help="published on or before")] = None,
    section: Annotated[Optional[str], typer.Option()] = None,
    language: Annotated[Optional[str], typer.Option()] = None,
    size: Annotated[int, typer.Option(help="hits to show")] = 10,
    json_out: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Search the index; with --speaker/--role the words must be in one matching turn."""
    from pipeline.store.search import search as do_search

    with _client() as (es, settings):
        total, hits = do_search(es, settings.index_alias, query, size=size, speaker=speaker, role=role,
                                date_from=since, date_to=until, section=section, language=language,
                                config_dir=settings.config_dir)
    if json_out:
        typer.echo(json.dumps({"total": total, "hits": [h.__dict__ for h in hits]}, ensure_ascii=False, indent=2))
        return
    typer.echo(f"{total} document{'s' if total != 1 else ''}")
    for hit in hits:
        typer.echo(f"{hit.published_at[:10]}  {hit.title}  [{hit.language}/{hit.section or '-'}]  {hit.url or ''}")
        for turn in hit.turns:
            text = " ".join(turn["text"].split())  # one line per turn, whatever its paragraphs
            text = text if len(text) <= 200 else text[:197] + "..."
            typer.echo(f"    {turn['speaker']} ({turn['role']}): {text}")


@app.command()
def stats(json_out: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Counts per section, language and month; dead letters per stage."""
    from pipeline.store.search import stats as do_stats

    with _client() as (es, settings):
        data = do_stats(es, settings)
    if json_out:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    typer.echo(f"{data['alias']} -> {', '.join(data['indices']) or '(missing)'}: {data['total']} documents")
    for key in ("by_section", "by_language", "by_month"):
        typer.echo(f"{key.replace('_', ' ')}: " + ", ".join(f"{k} {v}" for k, v in data[key].items()))
    typer.echo(f"dead letters: {data['deadletters']} " + json.dumps(data["deadletters_by_stage"]))


@app.command("kibana-import")
def kibana_import(
    url: Annotated[str, typer.Option(envvar="MFA_KIBANA_URL", help="Kibana base URL")] = "http://127.0.0.1:5601",
    export: Annotated[Optional[Path], typer.Option(help="NDJSON export (default: config/kibana/mfa-transcripts.ndjson)")] = None,
    space: Annotated[Optional[str], typer.Option(help="Kibana space id")] = None,
    username: Annotated[Optional[str], typer.Option(envvar="MFA_KIBANA_USERNAME")] = None,
    password: Annotated[Optional[str], typer.Option(envvar="MFA_KIBANA_PASSWORD", hidden=True)] = None,
    api_key: Annotated[Optional[str], typer.Option(envvar="MFA_KIBANA_API_KEY", hidden=True)] = None,
) -> None:
    """Import the data view, saved search and dashboard into Kibana (overwriting earlier imports)."""
    from pipeline.errors import ConfigError
    from pipeline.store.kibana import default_export, import_saved_objects, load_saved_objects, with_alias
    from pipeline.settings import get_settings

    settings = get_settings()
    objects = with_alias(load_saved_objects(export or default_export(settings.config_dir)), settings.index_alias)
    try:
        answer = import_saved_objects(url, objects, space=space, api_key=api_key,
                                      auth=(username, password or "") if username else None)
    except (ConfigError, OSError) as exc:
        typer.echo(f"error: {getattr(exc, 'reason', exc)}", err=True)
        raise typer.Exit(1)
    typer.echo(f"imported {answer.get('successCount', 0)} saved objects into {url} (data view on {settings.index_alias})")
