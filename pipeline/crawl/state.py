"""Crawl state, kept in Elasticsearch (index ``settings.state_index``), never in memory.

Three kinds of documents:
- ``doc``: one per article URL (id from the canonical URL): its status
  (pending / recheck / done / gone / failed), the validators for conditional
  requests (ETag, Last-Modified), the hash of the bytes last fetched, the listing
  hints, and the run that last finished it;
- ``walk``: how far a listing walk got (page number, complete or not), so a walk
  killed half-way is not cut short by the known-documents stop when it restarts;
- ``run``: the last run of a kind (crawl / backfill) and whether it finished, so a
  restarted run carries on as the same run and does not re-check what it finished.

The mapping is config/elasticsearch/crawlstate.template.json.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Iterator

from elasticsearch import Elasticsearch, helpers

from pipeline.ids import state_key
from pipeline.settings import DEFAULT_CONFIG_DIR

PENDING, RECHECK, DONE, GONE, FAILED = "pending", "recheck", "done", "gone", "failed"
TO_FETCH = (PENDING, RECHECK)

STATE_FILE = "crawlstate.template.json"


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat()



class CrawlState:
    def __init__(self, es: Elasticsearch, index: str, *, config_dir: Path | None = None):
        self.es = es
        self.index = index
        self.config_dir = config_dir or DEFAULT_CONFIG_DIR

    def ensure(self) -> None:
        """Create the state index from its mapping when missing (a parallel run may have just created it)."""
        from pipeline.store.design import create_index_if_missing, load_config_json

        create_index_if_missing(self.es, self.index, load_config_json(self.config_dir, STATE_FILE))

    def refresh(self) -> None:
        self.es.indices.refresh(index=self.index)

    # ---- article documents ----------------------------------------------
    def get_docs(self, urls: Iterable[str]) -> dict[str, dict]:
        """Stored state by canonical key, for those URLs that have one."""
        keys = list(dict.fromkeys(state_key(u) for u in urls))
        if not keys:
            return {}
        resp = self.es.mget(index=self.index, ids=keys)
        return {d["_id"]: d["_source"] for d in resp.body["docs"] if d.get("found")}

    def put_docs(self, docs: dict[str, dict], *, refresh: bool = False) -> None:
        """Upsert partial documents by key (only the given fields change)."""
        if not docs:
            return
        stamp = now_iso()
        actions = ({"_op_type": "update", "_index": self.index, "_id": key,
                    "doc": {**doc, "updated_at": stamp}, "doc_as_upsert": True} for key, doc in docs.items())
        helpers.bulk(self.es, actions, refresh="wait_for" if refresh else False)

    def to_fetch(self, sections: list[str], languages: list[str], size: int,
                 exclude: set[str] = frozenset()) -> list[tuple[str, dict]]:
        """The next documents waiting for a fetch in these sections and languages, newest first."""
        query = {"bool": {"filter": [
            {"term": {"kind": "doc"}},
            {"terms": {"status": list(TO_FETCH)}},
            {"terms": {"section": sections}},
            {"terms": {"language": languages}},
        ], "must_not": [{"ids": {"values": list(exclude)}}] if exclude else []}}
        resp = self.es.search(index=self.index, query=query, size=size,
                              sort=[{"listed_at": {"order": "desc", "missing": "_last"}}, {"url": "asc"}])
        return [(hit["_id"], hit["_source"]) for hit in resp.body["hits"]["hits"]]

    def count(self, status: str | None = None) -> int:
        filters = [{"term": {"kind": "doc"}}]
        if status:
            filters.append({"term": {"status": status}})
        return self.es.count(index=self.index, query={"bool": {"filter": filters}})["count"]

    def iter_docs(self, status: str | None = None) -> Iterator[dict]:
        filters = [{"term": {"kind": "doc"}}]
        if status:
            filters.append({"term": {"status": status}})
        for hit in helpers.scan(self.es, index=self.index, query={"query": {"bool": {"filter": filters}}}):
            yield hit["_source"]

    # ---- walks and runs ---------------------------------------------------
    def get(self, key: str) -> dict | None:
        resp = self.es.options(ignore_status=404).get(index=self.index, id=key)
        return resp.body.get("_source") if resp.body.get("found") else None

    def put(self, key: str, doc: dict) -> None:
        self.es.index(index=self.index, id=key, document={**doc, "updated_at": now_iso()})
