"""Stage store: every version of a document, oldest first (``mfa-ingest history``).

The writer keeps one document per text a transcript ever had in ``<alias>-history``
(store/writer.py: ``version_document``). A document is named by its id, by any URL
that reached it (the ``urls`` field of the current document), or by an input file that brought
it (its ``sources``).
"""

from __future__ import annotations

from pathlib import Path

from elasticsearch import Elasticsearch

from pipeline.model.errors import ConfigError
from pipeline.model.ids import canonical_url
from pipeline.store.design import versions_index_name


def resolve_document(es: Elasticsearch, alias: str, ref: str) -> str:
    """The document id ``ref`` names: a URL through the documents' ``urls``; an id as is; else an
    input that brought it (a dump file, as given or as an absolute path) through ``sources``."""
    if "://" in ref:
        query = {"bool": {"should": [{"term": {"urls": canonical_url(ref)}}, {"term": {"url": ref}}],
                          "minimum_should_match": 1}}
    else:
        if es.options(ignore_status=404).get(index=alias, id=ref, source=False).body.get("found"):
            return ref
        query = {"terms": {"sources": sorted({ref, str(Path(ref).resolve())})}}
    hits = es.search(index=alias, query=query, size=2, source=False)["hits"]["hits"]
    if not hits:
        raise ConfigError(f"no document of {alias!r} was reached by {ref}")
    return hits[0]["_id"]


def history(es: Elasticsearch, alias: str, ref: str) -> list[dict]:
    """Every kept version of the document ``ref`` names, oldest first, each with its text."""
    doc_id = resolve_document(es, alias, ref)
    index = versions_index_name(alias)
    if not es.indices.exists(index=index):
        return []
    es.indices.refresh(index=index)
    hits = es.search(index=index, query={"term": {"doc_id": doc_id}}, size=1000,
                     sort=[{"first_seen": "asc"}, {"doc_version": "asc"}])["hits"]["hits"]
    return [hit["_source"] for hit in hits]
