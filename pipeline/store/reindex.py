"""Stage store: index versions behind the alias, for the blue/green rebuild (pipeline/jobs/rebuild.py).

The versioned concrete indices ``<alias>-vN``, the next one created from the current
template, the stored documents re-validated as Transcripts (the rebuild's source when
it does not read archives), the checks a new version must pass (counts, no write to
the old one after the build started), the atomic alias swap, and ``rollback``.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from itertools import islice
from typing import Iterator

from elasticsearch import Elasticsearch, helpers

from pipeline.model.errors import ConfigError, NotAnAlias, PipelineError
from pipeline.model.records import Failure, Transcript, validate_record
from pipeline.settings import Settings
from pipeline.store import design
from pipeline.store.writer import merged, with_write_policy

log = logging.getLogger(__name__)

# Fields the indexer adds or the model computes: not inputs of a Transcript.
DERIVED_FIELDS = ("word_count", "content_hash", "doc_version", "indexed_at", "turn_count", "question_count",
                  "match_key", "sources", "first_published", "last_changed")


def _version_pattern(alias: str) -> re.Pattern[str]:
    return re.compile(rf"^{re.escape(alias)}-v(\d+)$")


def versions(es: Elasticsearch, alias: str) -> list[tuple[int, str]]:
    """Existing concrete indices ``<alias>-vN``, oldest first."""
    pattern = _version_pattern(alias)
    names = es.indices.get(index=f"{alias}-v*", expand_wildcards="open,closed", ignore_unavailable=True).body
    found = [(int(m.group(1)), name) for name in names if (m := pattern.match(name))]
    return sorted(found)


@dataclass
class IndexVersion:
    number: int
    name: str
    documents: int
    created_at: datetime | None
    live: bool  # behind the alias
    newest_document_at: datetime | None = None
    went_live: bool = False  # ever behind the alias (swap_alias marks it): a rolled-back build, not a failed one

    def as_dict(self) -> dict:
        return {"number": self.number, "name": self.name, "documents": self.documents, "live": self.live,
                "created_at": self.created_at.isoformat() if self.created_at else None,
                "newest_indexed_at": self.newest_document_at.isoformat() if self.newest_document_at else None}


def version_table(es: Elasticsearch, alias: str) -> list[IndexVersion]:
    """Every ``<alias>-vN`` with its document count, creation time and whether the alias is on it."""
    live = set(design.alias_indices(es, alias))
    table = []
    for number, name in versions(es, alias):
        created = es.indices.get_settings(index=name, name="index.creation_date").body
        millis = created.get(name, {}).get("settings", {}).get("index", {}).get("creation_date")
        newest = es.search(index=name, size=0, aggs={"n": {"max": {"field": "indexed_at"}}}).body
        value = newest["aggregations"]["n"].get("value")
        table.append(IndexVersion(number, name, _count(es, name),
                                  datetime.fromtimestamp(int(millis) / 1000, tz=timezone.utc) if millis else None,
                                  name in live,
                                  datetime.fromtimestamp(value / 1000, tz=timezone.utc) if value else None,
                                  went_live=WENT_LIVE in _index_meta(es, name)))
    return table


def prunable(table: list[IndexVersion], keep: int) -> list[IndexVersion]:
    """Versions to delete so that the live one and the ``keep`` newest others remain.

    A version newer than the live one that never went live is a failed build (a failed
    check or a --no-swap left for inspection): it goes too. One that went live and was
    rolled back from is an ordinary version, and the newest. Without a live version
    nothing is pruned (the alias is broken; deleting would lose the only copies).
    """
    live = [v.number for v in table if v.live]
    if not live:
        return []
    failed = [v for v in table if not v.live and not v.went_live and v.number > max(live)]
    others = [v for v in table if not v.live and v not in failed]
    return others[:max(len(others) - keep, 0)] + failed


def prune_versions(es: Elasticsearch, alias: str, *, keep: int | None,
                   dry_run: bool = False) -> tuple[list[IndexVersion], list[str]]:
    """The alias's version table and the versions ``prunable`` names (none when ``keep`` is None),
    deleted unless ``dry_run`` (``mfa-ingest versions --keep N [--dry-run]``)."""
    table = version_table(es, alias)
    doomed = [v.name for v in prunable(table, keep)] if keep is not None else []
    if doomed and not dry_run:
        es.indices.delete(index=",".join(doomed))
    return table, doomed


def next_index_name(es: Elasticsearch, alias: str, settings: Settings) -> str:
    existing = versions(es, alias)
    declared = int(design.load_template(settings).get("version", 1))
    number = existing[-1][0] + 1 if existing else declared
    return design.versioned_name(alias, number)


def create_next_index(es: Elasticsearch, settings: Settings, alias: str, *, put_template: bool = True) -> str:
    """Create the next versioned index with the current design, not yet behind the alias (and put the
    template, unless just put)."""
    body = design.put_template(es, settings, alias) if put_template else design.template_body(es, settings, alias)
    name = next_index_name(es, alias, settings)
    design.create_versioned(es, name, body)
    return name


def stored_records(es: Elasticsearch, index: str) -> Iterator[Transcript | Failure]:
    """Every document of ``index`` as a Transcript re-validated by the current model, or a Failure."""
    for hit in helpers.scan(es, index=index, query={"query": {"match_all": {}}}, size=500, preserve_order=False):
        source = {k: v for k, v in hit["_source"].items() if k not in DERIVED_FIELDS}
        try:
            yield validate_record(source, source=source.get("source"))
        except PipelineError as exc:
            yield Failure(source=source.get("source") or f"{index}/{hit['_id']}", stage=exc.stage,
                          reason=exc.reason, url=source.get("url"))


# What a document accumulates over its life, which no input holds whole: kept across a rebuild.
_PROVENANCE = ["sources", "urls", "first_published", "doc_version", "content_hash"]


def carry_provenance(es: Elasticsearch, *, old: str, new: str, retry_window: float) -> int:
    """Give each document of ``new`` what its namesake in ``old`` accumulated: every source and
    URL that brought it, its first publication date, its version count (one more when the
    rebuild changed its text). The new index was written from inputs that know only themselves.
    Returns how many documents could not be updated (each logged)."""
    es.indices.refresh(index=new)
    hits = helpers.scan(es, index=old, query={"query": {"match_all": {}}, "_source": _PROVENANCE},
                        size=500, preserve_order=False)
    failed = 0
    while batch := list(islice(hits, 500)):
        found = with_write_policy(lambda: es.mget(index=new, ids=[h["_id"] for h in batch], source_includes=_PROVENANCE),
                             "looking up the rebuilt documents", retry_window)
        built = {d["_id"]: d["_source"] for d in found.body["docs"] if d.get("found")}
        actions = [_carried(new, hit["_id"], hit["_source"], built[hit["_id"]]) for hit in batch if hit["_id"] in built]
        actions = [a for a in actions if a is not None]
        if actions:
            _, errors = with_write_policy(lambda: helpers.bulk(es, actions, raise_on_error=False, max_retries=0),
                                     "carrying provenance over", retry_window)
            for error in errors:
                log.error("provenance of %s not carried over: %s", next(iter(error.values())).get("_id"), error)
            failed += len(errors)
    return failed


def _carried(index: str, doc_id: str, was: dict, now: dict) -> dict | None:
    version = int(was.get("doc_version") or 1) + (0 if was.get("content_hash") == now.get("content_hash") else 1)
    doc = {"sources": merged(was.get("sources"), now.get("sources")), "urls": merged(now.get("urls"), was.get("urls")),
           "first_published": was.get("first_published") or now.get("first_published"), "doc_version": version}
    if all(now.get(key) == value for key, value in doc.items()):
        return None
    return {"_op_type": "update", "_index": index, "_id": doc_id, "doc": doc}


WENT_LIVE = "went_live_at"  # key of the index mapping's _meta: when the version first went behind the alias


def _index_meta(es: Elasticsearch, name: str) -> dict:
    return es.indices.get_mapping(index=name).body.get(name, {}).get("mappings", {}).get("_meta") or {}


def swap_alias(es: Elasticsearch, alias: str, *, old: str | None, new: str) -> None:
    """Point the alias (read and write) at ``new`` in one atomic call; mark ``new`` as having gone live
    (``prunable`` keeps a rolled-back version apart from a build that never went live)."""
    actions: list[dict] = []
    if old is not None:
        actions.append({"remove": {"index": old, "alias": alias}})
    actions.append({"add": {"index": new, "alias": alias, "is_write_index": True}})
    es.indices.update_aliases(actions=actions)
    meta = _index_meta(es, new)
    if WENT_LIVE not in meta:
        es.indices.put_mapping(index=new, meta={**meta, WENT_LIVE: datetime.now(timezone.utc).isoformat()})


def check_counts(old_count: int, new_count: int, *, min_ratio: float) -> str | None:
    """None when the new index may take over; else why not."""
    if new_count == 0 and old_count > 0:
        return f"new index is empty (old has {old_count})"
    if new_count < old_count * min_ratio:
        return f"new index has {new_count} documents, fewer than {min_ratio:.0%} of the old {old_count}"
    return None


def writes_since(es: Elasticsearch, index: str | None, since: datetime) -> int:
    """Documents of ``index`` indexed after ``since`` (each write stamps ``indexed_at``)."""
    if index is None:
        return 0
    es.indices.refresh(index=index)
    return int(es.count(index=index, query={"range": {"indexed_at": {"gt": since.isoformat()}}})["count"])


def check_no_writes(es: Elasticsearch, old: str | None, *, since: datetime) -> str | None:
    """None when ``old`` took no write since the build started; else why the swap would lose documents."""
    late = writes_since(es, old, since)
    if late:
        return (f"{old} received {late} writes after the build started at {since.isoformat()}; they are not in "
                "the new index (was a crawl running?): not swapping; rebuild when no crawl writes")
    return None


def check_build(es: Elasticsearch, *, old: str | None, new: str, since: datetime,
                min_ratio: float) -> tuple[int, int, str | None]:
    """(old count, new count, None when ``new`` may take over, else why not)."""
    old_count, new_count = _count(es, old), _count(es, new)
    problem = check_counts(old_count, new_count, min_ratio=min_ratio) or check_no_writes(es, old, since=since)
    return old_count, new_count, problem


def _count(es: Elasticsearch, index: str | None) -> int:
    if index is None:
        return 0
    es.indices.refresh(index=index)
    return int(es.count(index=index)["count"])


def rollback(es: Elasticsearch, settings: Settings, *, alias: str | None = None, to: str | None = None) -> tuple[str, str]:
    """Move the alias back to the previous kept version (or to ``to``); return (from, to)."""
    alias = alias or settings.index_alias
    current = design.write_index(es, alias)
    if current is None and es.indices.exists(index=alias) and not es.indices.exists_alias(name=alias):
        raise NotAnAlias(f"{alias!r} is a concrete index, not an alias: there is nothing to roll back")
    if current is None:
        raise ConfigError(f"alias {alias!r} points nowhere")
    if to is None:
        older = [name for number, name in versions(es, alias) if name != current
                 and number < _version_of(alias, current)]
        if not older:
            raise NothingToRollBack(f"no version of {alias!r} older than {current} is kept")
        to = older[-1]
    elif not es.indices.exists(index=to):
        raise ConfigError(f"index {to!r} does not exist")
    swap_alias(es, alias, old=current, new=to)
    return current, to


class NothingToRollBack(ConfigError):
    """``rollback`` without ``--to`` on the oldest kept version."""

    hint = ("mfa-ingest versions lists the kept versions; mfa-ingest rollback --to NAME points the alias "
            "at any of them (a newer one too)")


def _version_of(alias: str, name: str) -> int:
    m = _version_pattern(alias).match(name)
    return int(m.group(1)) if m else 0
