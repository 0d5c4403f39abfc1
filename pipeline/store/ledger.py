"""Stage store: the crawl ledger's index, read and written (crawl/state.py keeps the ledger's model).

The crawl layer names what it wants (documents by key, the due ones, counts, a scan); the
queries, the client calls and the write policy are here, so no module outside ``pipeline/store``
calls a method of the Elasticsearch client (tests/static/test_store_boundary.py). Functions take
and return the ledger documents' JSON (``_source``): the store knows no crawl model. Status values
come from the caller (crawl/state.py ``Status``), never spelled twice.

Writes go through the store's write policy (``writer.bulk_write``): a node away for a while is
waited for, up to ``retry_window``, then an ``IndexingError`` naming the ledger. Reads are one
call each, as before: a node that does not answer fails the run at once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Iterable, Iterator

from elasticsearch import Elasticsearch

from pipeline.store.client import scan
from pipeline.store.design import create_index_if_missing, grow_mapping
from pipeline.store.writer import bulk_write

WHAT = "writing the crawl ledger"  # how a failed write is named in the IndexingError


def ensure_ledger(es: Elasticsearch, index: str, body: dict) -> None:
    """Create the ledger index from ``body`` when missing (a parallel run may have just created it);
    an existing one gains the fields the mapping added since."""
    if not create_index_if_missing(es, index, body):
        grow_mapping(es, index, body)


def write_sources(es: Elasticsearch, index: str, sources: Iterable[tuple[str, dict]], *, retry_window: float,
                  refresh: bool = False) -> None:
    """Write whole ledger documents, ``(key, _source)`` pairs, through the store's write policy."""
    actions = [{"_op_type": "index", "_index": index, "_id": key, "_source": source} for key, source in sources]
    bulk_write(es, actions, what=WHAT, retry_window=retry_window, refresh=refresh)


def sources_by_key(es: Elasticsearch, index: str, keys: list[str]) -> dict[str, dict]:
    """The stored documents of those keys that have one, by key (one multi-get)."""
    if not keys:
        return {}
    resp = es.mget(index=index, ids=keys)
    return {d["_id"]: d["_source"] for d in resp.body["docs"] if d.get("found")}


def source_of(es: Elasticsearch, index: str, key: str) -> dict | None:
    """The stored document of one key (a walk's or a run's state), or None."""
    resp = es.options(ignore_status=404).get(index=index, id=key)
    return resp.body.get("_source") if resp.body.get("found") else None


def docs_query(status: str | None = None) -> dict:
    """Every article document of the ledger (``kind: doc``), or those of one status."""
    filters: list[dict] = [{"term": {"kind": "doc"}}]
    if status:
        filters.append({"term": {"status": status}})
    return {"bool": {"filter": filters}}


def due_query(sections: list[str], languages: list[str], now: datetime, *, waiting: list[str], failed: str,
              indexed: str, exclude: Iterable[str] = (), revisit_sections: list[str] = (),
              revisit_before: datetime | None = None, revisits_only: bool = False) -> dict:
    """The article documents of these sections and languages that are due: the ``waiting`` ones,
    the ``failed`` ones whose retry time came and, with ``revisit_sections``, the ``indexed`` ones
    of those sections whose next check comes before ``revisit_before``; ``revisits_only``: the
    last ones alone. ``exclude``: keys left out (handed out already)."""
    exclude = list(exclude)
    waiting_clause = {"terms": {"status": list(waiting)}}
    retry_due = {"bool": {"filter": [{"term": {"status": failed}},
                                     {"range": {"next_retry_at": {"lte": now.isoformat()}}}]}}
    should = [] if revisits_only else [waiting_clause, retry_due]
    if revisit_sections and revisit_before is not None:
        should.append({"bool": {"filter": [{"term": {"status": indexed}},
                                           {"terms": {"section": list(revisit_sections)}},
                                           {"range": {"next_check_at": {"lte": revisit_before.isoformat()}}}]}})
    return {"bool": {
        "filter": [{"term": {"kind": "doc"}}, {"terms": {"section": sections}},
                   {"terms": {"language": languages}},
                   {"bool": {"should": should, "minimum_should_match": 1}}],
        "must_not": [{"ids": {"values": exclude}}] if exclude else []}}


def unchecked_query(sections: list[str], *, indexed: str) -> dict:
    """The ``indexed`` article documents of these sections never checked (no ``checked_at``)."""
    return {"bool": {"filter": [{"term": {"kind": "doc"}}, {"term": {"status": indexed}},
                                {"terms": {"section": sections}}],
                     "must_not": [{"exists": {"field": "checked_at"}}]}}


def newest_first(es: Elasticsearch, index: str, query: dict, size: int) -> list[dict]:
    """Up to ``size`` documents of ``query``, the latest listed first (then by URL)."""
    resp = es.search(index=index, query=query, size=size,
                     sort=[{"listed_at": {"order": "desc", "missing": "_last"}}, {"url": "asc"}])
    return [hit["_source"] for hit in resp.body["hits"]["hits"]]


def count(es: Elasticsearch, index: str, query: dict) -> int:
    return es.count(index=index, query=query)["count"]


def scan_sources(es: Elasticsearch, index: str, query: dict) -> Iterator[dict]:
    """Every document of ``query`` (a scroll: any number, read in pages)."""
    for hit in scan(es, index, query):
        yield hit["_source"]
