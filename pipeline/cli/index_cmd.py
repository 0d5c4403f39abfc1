"""Commands on the index: ``reindex``, ``rollback``, ``versions``, ``search``, ``stats``, ``kibana-import``.

Thin: parse options, call pipeline.store.reindex / pipeline.store.search / pipeline.store.kibana,
print the result. Settings come from MFA_* variables; ``--index`` names another alias or index.
Dates are Moscow calendar days, both ends included.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Iterator, Optional

import typer

from pipeline.cli._common import (
    EXIT_ENVIRONMENT,
    AllowFailuresOpt,
    IndexOpt,
    JsonOpt,
    ProgressOpt,
    check_allowance,
    command,
    progress_for,
    run_context,
)
from pipeline.cli.output import Format, FormatOpt, print_rows

if TYPE_CHECKING:
    from pipeline.context import RunContext

DATE = ["%Y-%m-%d"]
FromOpt = Annotated[Optional[datetime], typer.Option(
    "--from", formats=DATE, help="published on or after this Moscow day (YYYY-MM-DD)")]
ToOpt = Annotated[Optional[datetime], typer.Option(
    "--to", formats=DATE, help="published on or before this Moscow day (YYYY-MM-DD, included)")]
SpeakerOpt = Annotated[Optional[str], typer.Option(
    help="turns by this speaker: id, name or surname in any language (Lavrov = Лавров = Sergey Lavrov)")]
RoleOpt = Annotated[Optional[str], typer.Option(help="turns of this role: statement, question, answer")]
SectionOpt = Annotated[Optional[str], typer.Option(
    help="profile section name (minister_speeches, briefings...) or a printed section title")]
LanguageOpt = Annotated[Optional[str], typer.Option(help="document language: en, ru, ...")]
KindOpt = Annotated[Optional[str], typer.Option(
    help="what the document is, as its section publishes it: speech, briefing, news... (the profile's kinds)")]


@contextmanager
def _client() -> Iterator[RunContext]:
    """The command's context; its client (for the configured node) is closed when the command is done."""
    with run_context() as ctx:
        yield ctx


def _filters(ctx: RunContext, *, speaker, role, since, until, section, language, kind) -> dict:
    """The search filters of the options, resolved and checked against the profile (BadParameter when wrong)."""
    from pipeline.store.search import ROLES, kind_choices, resolve_section

    settings, profile = ctx.settings, ctx.profile
    if role and role not in ROLES:
        raise typer.BadParameter(f"{role!r} is not one of: {', '.join(ROLES)}", param_hint="--role")
    sections = None
    if section:
        try:
            sections = resolve_section(section, profile)
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--section") from None
    languages = set(profile.crawl.languages) | set(profile.extraction.languages)
    if language and language not in languages:
        raise typer.BadParameter(f"{language!r} is not one of: {', '.join(sorted(languages))}",
                                 param_hint="--language")
    kinds = kind_choices(profile)
    if kind and kind not in kinds:
        raise typer.BadParameter(f"{kind!r} is not one of: {', '.join(kinds)}", param_hint="--kind")
    return dict(speaker=_speaker(speaker, profile) if speaker else None, role=role,
                date_from=since.date() if since else None, date_to=until.date() if until else None,
                section=sections, language=language, kind=kind, config_dir=settings.config_dir)


def _speaker(asked: str, profile):
    """What --speaker names: a profile person, or any printed form or stored id, with the id
    extraction would give that name (the one rule that stamps ``speaker_id``)."""
    from pipeline.extract.metadata import speaker_key
    from pipeline.store.search import resolve_speaker

    return resolve_speaker(asked, profile, key=speaker_key(asked, profile.extraction))


def _people(profile) -> list:
    """The profile's speakers, each with all its printed forms (stats --by speaker merges them)."""
    from pipeline.store.search import resolve_speaker

    return [resolve_speaker(person_id, profile) for person_id in profile.extraction.speakers]


def _require_index(es, name: str) -> None:
    """Exit 3 with a hint when ``name`` is no index or alias (``es`` None: already known missing)."""
    from pipeline.store.design import exists

    if es is None or not exists(es, name):
        typer.echo(f"error: index or alias {name!r} does not exist", err=True)
        typer.echo("hint: index something first (mfa-ingest ingest sample/dumps) or check --index / "
                   "MFA_INDEX_ALIAS", err=True)
        raise typer.Exit(EXIT_ENVIRONMENT)


@command()
def reindex(
    archive: Annotated[Optional[list[Path]], typer.Argument(
        metavar="ARCHIVE_INPUTS",
        help="archive inputs (text-dump folders, WARC files, folders of them; the DAGs' archive_inputs); "
             "none: rebuild from the current index")] = None,
    index: IndexOpt = None,
    min_ratio: Annotated[float, typer.Option(help="the new index must hold at least this share of the old")] = 1.0,
    no_swap: Annotated[bool, typer.Option("--no-swap", help="build and check, leave the alias alone")] = False,
    allow_failures: AllowFailuresOpt = None,
    progress: ProgressOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Build <alias>-vN+1 with the current code and mapping, check counts, swap the alias (old index kept).

    Example: mfa-ingest reindex   (rebuild from the live index)

    Example: mfa-ingest reindex .state/warc/ --no-swap   (from archive inputs, check only)
    """
    from pipeline.cli._common import finish_run
    from pipeline.jobs.rebuild import rebuild

    check_allowance(allow_failures)
    with _client() as ctx, progress_for(progress) as shown:
        result = rebuild(ctx, archive=archive or None, alias=index, min_ratio=min_ratio, swap=not no_swap,
                         progress=shown)
    if as_json:
        typer.echo(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
    else:
        typer.echo(f"{result.alias}: built {result.new_index} ({result.new_count} docs) from "
                   f"{result.report.extra.get('from') or 'nothing'}; old {result.old_index} ({result.old_count} docs)")
        typer.echo(f"check: {result.check}; alias {'now on ' + result.new_index if result.swapped else 'unchanged'}")
    if result.check != "ok":
        for line in result.report.class_lines():
            typer.echo(line, err=True)
        raise typer.Exit(1)
    finish_run(result.report, as_json=False, allow_failures=allow_failures, lines=0 if as_json else None)


@command()
def rollback(
    to: Annotated[Optional[str], typer.Option(help="concrete index to point the alias at (default: previous)")] = None,
    index: IndexOpt = None,
) -> None:
    """Point the alias back at the previous kept version of the index.

    Example: mfa-ingest rollback --to mfa-transcripts-v3
    """
    from pipeline.store.reindex import rollback as do_rollback

    with _client() as ctx:
        es, settings = ctx.es, ctx.settings
        old, new = do_rollback(es, settings, alias=index, to=to)
    typer.echo(f"{index or settings.index_alias}: {old} -> {new}")


@command()
def versions(
    index: IndexOpt = None,
    keep: Annotated[Optional[int], typer.Option(
        min=0, help="delete all but the live version and the N newest older ones; newer failed builds too")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="with --keep: say what would go, delete nothing")] = False,
    fmt: FormatOpt = Format.table,
) -> None:
    """List the alias's index versions (documents, creation date, live or not); prune with --keep.

    Example: mfa-ingest versions --keep 2 --dry-run
    """
    from pipeline.store.reindex import prune_versions

    with _client() as ctx:
        alias = index or ctx.settings.index_alias
        table, doomed = prune_versions(ctx.es, alias, keep=keep, dry_run=dry_run)
    rows = [{**v.as_dict(), "action": ("would delete" if dry_run else "deleted") if v.name in doomed else ""}
            for v in table]
    print_rows(rows, fmt, columns=["name", "live", "documents", "created_at", "newest_indexed_at", "action"],
               title=f"versions of {alias}")


@command()
def search(
    query: Annotated[Optional[str], typer.Argument(help="words to look for")] = None,
    speaker: SpeakerOpt = None,
    role: RoleOpt = None,
    since: FromOpt = None,
    until: ToOpt = None,
    section: SectionOpt = None,
    language: LanguageOpt = None,
    kind: KindOpt = None,
    event: Annotated[Optional[str], typer.Option(
        help="the language versions of one event: its event id (the event column of search)")] = None,
    index: IndexOpt = None,
    size: Annotated[Optional[int], typer.Option(
        min=1, help="documents per page (default 10); with --format csv|json it cuts the export to that page")] = None,
    page: Annotated[Optional[int], typer.Option(
        min=1, help="page to show (default 1); with --format csv|json it cuts the export to that page")] = None,
    turns: Annotated[int, typer.Option(min=1, max=100, help="matching turns shown per document")] = 5,
    all_turns: Annotated[bool, typer.Option("--all", help="every matching turn of each document (up to 100)")] = False,
    fmt: FormatOpt = Format.table,
    as_json: JsonOpt = False,
) -> None:
    """Search the index; with --speaker/--role the words must be in one matching turn.

    Every word must match, in any of its forms on the document's language (санкции finds
    санкций, Лавров finds Лаврова; sanction finds sanctions); "..." is a phrase, -word
    excludes, a | b is either, sanct* a prefix (Elasticsearch simple_query_string).
    Matched forms are shown between asterisks.

    Example: mfa-ingest search NATO --speaker Lavrov --role answer --from 2021-01-01 --to 2021-12-31

    Example: mfa-ingest search '"strategic stability" -NATO' --language en

    Example: mfa-ingest search санкции --kind briefing --language ru

    Example: mfa-ingest search --speaker Zakharova --role answer --all --format csv > answers.csv
    """
    from pipeline.store.search import MAX_TURNS, MAX_WINDOW, kind_label, search_all, section_label
    from pipeline.store.search import search as do_search

    fmt = Format.json if as_json else fmt
    max_turns = MAX_TURNS if all_turns else turns
    paged = fmt is Format.table or size is not None or page is not None
    size, page = size or 10, page or 1
    if paged and page * size > MAX_WINDOW:
        raise typer.BadParameter(f"the table shows documents up to the {MAX_WINDOW:,}th (--page {page} --size {size} "
                                 "asks beyond); --format csv or --format json without --size/--page exports every match",
                                 param_hint="--size")
    with _client() as ctx:
        es, settings = ctx.es, ctx.settings
        filters = _filters(ctx, speaker=speaker, role=role, since=since, until=until,
                           section=section, language=language, kind=kind)
        filters["event"] = event
        target = index or settings.index_alias
        _require_index(es, target)
        if not paged:  # an export: every match, streamed
            total, hits_iter = search_all(es, target, query, max_turns=max_turns, highlight=fmt is Format.json,
                                          **filters)
            _export(total, hits_iter, fmt)
            return
        total, hits = do_search(es, target, query, size=size, offset=(page - 1) * size, max_turns=max_turns,
                                **filters)
        profile = ctx.profile
    first = (page - 1) * size
    if fmt is not Format.table:  # one page, as asked: say so when it is not everything
        if len(hits) < total:
            typer.echo(f"note: page {page} of {size} documents: {first + 1}-{first + len(hits)} of {total}; "
                       "without --size/--page the export has every match", err=True)
        if fmt is Format.json:
            typer.echo(json.dumps({"total": total, "page": page, "size": size,
                                   "hits": [h.__dict__ for h in hits]}, ensure_ascii=False, indent=2))
        else:
            _export(total, iter(hits), fmt)
        return
    typer.echo(f"{total} document{'s' if total != 1 else ''}"
               + (f"; showing {first + 1}-{first + len(hits)}" if hits else ""))
    for hit in hits:
        typer.echo(f"{hit.published_at[:16].replace('T', ' ')}  {hit.title or '(no title)'}")
        about = [hit.language, section_label(hit.section, hit.language, profile),
                 kind_label(hit.kind, hit.language, profile), hit.event_id and f"event {hit.event_id}", hit.url]
        typer.echo("    " + " · ".join(a for a in about if a))
        for mark in hit.highlights[:3]:
            typer.echo(f"    … {_marked(mark)} …")
        if hit.turns:
            typer.echo(f"    {len(hit.turns)} of {hit.turns_total} matching turns:")
        for turn in hit.turns:
            text = _marked((turn.get("highlights") or [turn["text"]])[0])
            text = text if all_turns or len(text) <= 200 else text[:197] + "..."
            typer.echo(f"    {turn['speaker']} ({turn['role']}): {text}")
    if first + len(hits) < total:
        typer.echo(f"more: --page {page + 1}")


EXPORT_COLUMNS = ["doc_id", "event_id", "published_at", "title", "language", "section", "kind", "url",
                  "speaker", "role", "text"]


def _export(total: int, hits, fmt: Format) -> None:
    """Every hit, streamed: CSV one row per matching turn (one per document without turns);
    JSON one object {"total", "hits": [...]} written hit by hit."""
    import csv
    import sys

    if fmt is Format.csv:
        out = csv.DictWriter(sys.stdout, fieldnames=EXPORT_COLUMNS, extrasaction="ignore", lineterminator="\n")
        out.writeheader()
        for h in hits:
            base = {"doc_id": h.doc_id, "event_id": h.event_id, "published_at": h.published_at, "title": h.title,
                    "language": h.language, "section": h.section, "kind": h.kind, "url": h.url}
            for t in h.turns or [{}]:
                out.writerow({**base, "speaker": t.get("speaker", ""), "role": t.get("role", ""),
                              "text": t.get("text", "")})
        sys.stdout.flush()
        return
    sys.stdout.write(f'{{"total": {total}, "hits": [')
    for n, h in enumerate(hits):
        sys.stdout.write(("," if n else "") + "\n" + json.dumps(h.__dict__, ensure_ascii=False))
    sys.stdout.write("\n]}\n")
    sys.stdout.flush()


def _marked(fragment: str) -> str:
    """A highlight for the terminal: one line, the matched forms *between asterisks* (no raw <em> tags)."""
    return " ".join(fragment.replace("<em>", "*").replace("</em>", "*").split())


@command()
def stats(
    query: Annotated[Optional[str], typer.Argument(help="count only what matches these words")] = None,
    by: Annotated[Optional[str], typer.Option(
        help="group by month, year, speaker, role, place, section, kind or language (Moscow months)")] = None,
    count: Annotated[str, typer.Option(help="count documents, turns or questions")] = "documents",
    speaker: SpeakerOpt = None,
    role: RoleOpt = None,
    since: FromOpt = None,
    until: ToOpt = None,
    section: SectionOpt = None,
    language: LanguageOpt = None,
    kind: KindOpt = None,
    index: IndexOpt = None,
    fmt: FormatOpt = Format.table,
    as_json: JsonOpt = False,
) -> None:
    """Counts in the index. Without --by: documents per section, kind, language and Moscow month, and dead letters.

    Example: mfa-ingest stats NATO --count questions --by month --from 2021-01-01 --to 2021-12-31

    Example: mfa-ingest stats --by speaker --count turns --role answer --format csv > answers.csv

    Example: mfa-ingest stats --kind briefing --by month --from 2021-01-01 --to 2021-12-31

    Example: mfa-ingest stats --by kind --language ru
    """
    from pipeline.store.search import (BY_FIELDS, COUNTS, count_by, kind_label, labelled_missing,
                                       labelled_sections)
    from pipeline.store.search import stats as do_stats

    fmt = Format.json if as_json else fmt
    if by is not None and by not in BY_FIELDS:
        raise typer.BadParameter(f"{by!r} is not one of: {', '.join(BY_FIELDS)}", param_hint="--by")
    if count not in COUNTS:
        raise typer.BadParameter(f"{count!r} is not one of: {', '.join(COUNTS)}", param_hint="--count")
    plain = (by is None and not any((query, speaker, role, since, until, section, language, kind))
             and count == "documents")
    with _client() as ctx:
        es, settings = ctx.es, ctx.settings
        target = index or settings.index_alias
        if plain:
            data = do_stats(es, settings, alias=target)
            data["by_section"] = labelled_sections(data["by_section"], language, ctx.profile)
            data["kind_labels"] = {k: kind_label(k, language, ctx.profile) for k in data["by_kind"]}
        else:
            filters = _filters(ctx, speaker=speaker, role=role, since=since, until=until,
                               section=section, language=language, kind=kind)
            _require_index(es, target)
            buckets = count_by(es, target, query, by=by or "month", count=count, people=_people(ctx.profile),
                               **filters)
            if by == "section":  # one row per section, named by its label in the language asked
                buckets = labelled_sections(buckets, language, ctx.profile)
            elif by != "kind":  # documents without the field (a place): the profile's name for them
                buckets = labelled_missing(buckets, by or "month", language, ctx.profile)
            # a kind is printed by its label; JSON and CSV keep the stored kind beside it
            labels = {k: kind_label(k, language, ctx.profile) for k in buckets} if by == "kind" else None
    if plain:
        if fmt is Format.json:
            typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
        else:
            typer.echo(f"{data['alias']} -> {', '.join(data['indices']) or '(missing)'}: {data['total']} documents")
            for key in ("by_section", "by_kind", "by_language", "by_month"):
                names = data["kind_labels"] if key == "by_kind" else {}
                typer.echo(f"{key.replace('_', ' ')}: " + ", ".join(f"{names.get(k, k)} {v}"
                                                                     for k, v in data[key].items()))
            typer.echo(f"dead letters: {data['deadletters']} " + json.dumps(data["deadletters_by_stage"]))
        if not data["indices"]:  # the counts above are of nothing: say why, and fail
            _require_index(None, data["alias"])
        return
    by = by or "month"
    if fmt is Format.json:
        typer.echo(json.dumps({"by": by, "count": count, "total": sum(buckets.values()), "buckets": buckets,
                               **({"labels": labels} if labels else {})}, ensure_ascii=False, indent=2))
        return
    if labels and fmt is Format.csv:
        rows = [{by: key, "label": labels[key], count: value} for key, value in buckets.items()]
        print_rows(rows, fmt, columns=[by, "label", count])
        return
    rows = [{by: labels[key] if labels else key, count: value} for key, value in buckets.items()]
    print_rows(rows, fmt, columns=[by, count], title=f"{count} by {by}", total={by: "total",
                                                                               count: sum(buckets.values())})


@command("kibana-import")
def kibana_import(
    url: Annotated[str, typer.Option(envvar="MFA_KIBANA_URL", help="Kibana base URL")] = "http://127.0.0.1:5601",
    export: Annotated[Optional[Path], typer.Option(help="NDJSON export (default: config/kibana/mfa-transcripts.ndjson)")] = None,
    space: Annotated[Optional[str], typer.Option(help="Kibana space id")] = None,
    index: IndexOpt = None,
    time_zone: Annotated[str, typer.Option(
        help="Kibana's dateFormat:tz, so its months are Moscow months like stats' ('' leaves it)")] = "Europe/Moscow",
    username: Annotated[Optional[str], typer.Option(envvar="MFA_KIBANA_USERNAME")] = None,
    password: Annotated[Optional[str], typer.Option(envvar="MFA_KIBANA_PASSWORD", hidden=True)] = None,
    api_key: Annotated[Optional[str], typer.Option(envvar="MFA_KIBANA_API_KEY", hidden=True)] = None,
) -> None:
    """Import the data view, saved search and dashboard into Kibana (overwriting earlier imports).

    Example: mfa-ingest kibana-import --url http://127.0.0.1:5601 --space analysts
    """
    from pipeline.model.errors import ConfigError
    from pipeline.store.kibana import (default_export, import_saved_objects, load_saved_objects, set_time_zone,
                                       with_alias, with_speaker_labels)
    ctx = run_context()
    settings = ctx.settings
    alias = index or settings.index_alias
    objects = with_alias(load_saved_objects(export or default_export(settings.config_dir)), alias)
    objects = with_speaker_labels(objects, ctx.profile.extraction.speakers)
    try:
        auth = (username, password or "") if username else None
        answer = import_saved_objects(url, objects, space=space, api_key=api_key, auth=auth)
        if time_zone:
            set_time_zone(url, time_zone, space=space, api_key=api_key, auth=auth)
    except (ConfigError, OSError) as exc:
        typer.echo(f"error: Kibana at {url}: {getattr(exc, 'reason', exc)}", err=True)
        typer.echo("hint: check --url (MFA_KIBANA_URL) and the Kibana credentials", err=True)
        raise typer.Exit(EXIT_ENVIRONMENT)
    typer.echo(f"imported {answer.get('successCount', 0)} saved objects into {url} (data view on {alias}"
               + (f"; dates shown in {time_zone})" if time_zone else ")"))
