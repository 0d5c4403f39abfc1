"""Read side of the index: full-text search with filters, and index statistics.

Reads the alias (settings.index_alias) and the dead-letter index; writes nothing.
A query with a speaker or a role asks the nested ``turns``: "answers by Sergey
Lavrov that mention NATO" matches turns where all three hold in the same turn,
and the matching turns come back with each hit (inner_hits).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from elasticsearch import Elasticsearch

from pipeline.settings import DEFAULT_CONFIG_DIR, Settings

# Document-level text fields with their boosts; turn text is searched inside the nested turns.
BASE_TEXT_FIELDS = {"title": 2, "body": 1}
TURN_TEXT_FIELD = "turns.text"


def _with_language_subfields(fields: dict[str, int], config_dir: Path | None) -> list[str]:
    """The fields plus the language sub-fields the overlay declares for them (``title.en``...).

    The sub-fields exist only on nodes with the overlay's analyzers; Elasticsearch skips
    unmapped fields in a multi_match, so the same query works on both kinds of node.
    """
    from pipeline.store.design import OVERLAY_FILE, load_config_json

    overlay = load_config_json(config_dir or DEFAULT_CONFIG_DIR, OVERLAY_FILE)["fields"]
    names: list[str] = []
    for name, boost in fields.items():
        suffix = f"^{boost}" if boost != 1 else ""
        names.append(name + suffix)
        names += [f"{name}.{sub}{suffix}" for sub in overlay.get(name, {})]
    return names


def text_fields(config_dir: Path | None = None) -> list[str]:
    return _with_language_subfields(BASE_TEXT_FIELDS, config_dir)


def turn_text_fields(config_dir: Path | None = None) -> list[str]:
    return _with_language_subfields({TURN_TEXT_FIELD: 1}, config_dir)


@dataclass
class Hit:
    doc_id: str
    score: float | None
    title: str
    published_at: str
    url: str | None
    section: str | None
    language: str
    turns: list[dict] = field(default_factory=list)


def _date(value: date | datetime | str | None) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return value.isoformat()


def build_query(
    text: str | None = None,
    *,
    speaker: str | None = None,
    role: str | None = None,
    date_from: date | datetime | str | None = None,
    date_to: date | datetime | str | None = None,
    section: str | None = None,
    language: str | None = None,
    max_turns: int = 5,
    config_dir: Path | None = None,
) -> dict:
    """The bool query for these filters; speaker/role make the text match inside one turn.

    ``config_dir``: where the language overlay naming the sub-fields is (default: the project's config/).
    """
    filters: list[dict] = []
    must: list[dict] = []
    if date_from or date_to:
        filters.append({"range": {"published_at": {k: v for k, v in
                        (("gte", _date(date_from)), ("lte", _date(date_to))) if v}}})
    if section:
        filters.append({"term": {"section": section}})
    if language:
        filters.append({"term": {"language": language}})
    if speaker or role:
        turn_must: list[dict] = []
        if text:
            turn_must.append({"multi_match": {"query": text, "fields": turn_text_fields(config_dir)}})
        if speaker:
            turn_must.append({"term": {"turns.speaker.lower": speaker}})
        if role:
            turn_must.append({"term": {"turns.role": role}})
        must.append({"nested": {
            "path": "turns", "score_mode": "max",
            "query": {"bool": {"must": turn_must}},
            "inner_hits": {"size": max_turns, "_source": ["turns.speaker", "turns.role", "turns.text"]},
        }})
    elif text:
        must.append({"multi_match": {"query": text, "fields": text_fields(config_dir)}})
    if not must:
        must.append({"match_all": {}})
    return {"bool": {"must": must, "filter": filters}}


def search(es: Elasticsearch, index: str, text: str | None = None, *, size: int = 10, **filters) -> tuple[int, list[Hit]]:
    """(total matching documents, the best ``size`` hits) for ``text`` and the filters of build_query."""
    resp = es.search(
        index=index, query=build_query(text, **filters), size=size, track_total_hits=True,
        source=["title", "published_at", "url", "section", "language"],
        sort=["_score", {"published_at": "desc"}],
    ).body
    hits = []
    for h in resp["hits"]["hits"]:
        src = h["_source"]
        turns = [t["_source"] for t in h.get("inner_hits", {}).get("turns", {}).get("hits", {}).get("hits", [])]
        hits.append(Hit(doc_id=h["_id"], score=h.get("_score"), title=src["title"], published_at=src["published_at"],
                        url=src.get("url"), section=src.get("section"), language=src["language"], turns=turns))
    return resp["hits"]["total"]["value"], hits


def stats(es: Elasticsearch, settings: Settings, *, alias: str | None = None) -> dict:
    """Document counts per section, language and month; dead letters per stage; what the alias points at."""
    alias = alias or settings.index_alias
    out: dict = {"alias": alias, "indices": [], "total": 0, "by_section": {}, "by_language": {}, "by_month": {},
                 "deadletters": 0, "deadletters_by_stage": {}}
    if es.indices.exists_alias(name=alias):
        out["indices"] = sorted(es.indices.get_alias(name=alias).body)
        resp = es.search(index=alias, size=0, track_total_hits=True, aggs={
            "by_section": {"terms": {"field": "section", "size": 50, "missing": "(none)"}},
            "by_language": {"terms": {"field": "language", "size": 20}},
            "by_month": {"date_histogram": {"field": "published_at", "calendar_interval": "month",
                                            "format": "yyyy-MM", "min_doc_count": 1}},
        }).body
        out["total"] = resp["hits"]["total"]["value"]
        aggs = resp["aggregations"]
        out["by_section"] = {b["key"]: b["doc_count"] for b in aggs["by_section"]["buckets"]}
        out["by_language"] = {b["key"]: b["doc_count"] for b in aggs["by_language"]["buckets"]}
        out["by_month"] = {b["key_as_string"]: b["doc_count"] for b in aggs["by_month"]["buckets"]}
    if es.indices.exists(index=settings.deadletter_index):
        resp = es.search(index=settings.deadletter_index, size=0, track_total_hits=True,
                         aggs={"by_stage": {"terms": {"field": "stage", "size": 20}}}).body
        out["deadletters"] = resp["hits"]["total"]["value"]
        out["deadletters_by_stage"] = {b["key"]: b["doc_count"] for b in resp["aggregations"]["by_stage"]["buckets"]}
    return out
