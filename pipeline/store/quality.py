"""Stage store: index-quality checks the nightly run makes on what it indexed.

Freshness (``freshness``: the newest ``indexed_at`` and the document count, which
``RunReport.quality_problems`` judges against ``max_quiet_days``) and template drift.

Template drift: per-section field coverage of each run, compared with the previous runs.

A redesign of mid.ru rarely breaks extraction outright: the time element disappears, the
document number moves, and records go on being indexed with less in them. After each crawl
``record_coverage`` stores, per profile section, the share of the run's documents that have
a time (not midnight), a place, a document number, languages and more than one turn, the
share read by the extractor's generic fallback (no layout of the profile read it: record
field ``layout``), and their mean paragraph count, in the index ``<state_index>-coverage``. ``drift_alarms``
compares the newest run with the mean of the runs of the previous ``drift.window_days`` and
names every share that moved by more than ``drift.threshold`` (profile ``crawl.drift``).
A run that indexed nothing new is judged on the index's newest ``drift.judge_last``
documents instead, and says so (``judge_run``); those are stored as a fallback, never
taken as a past run.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta, timezone

from pipeline.profile import SiteProfile

SHARES = ("time", "place", "doc_number", "languages", "turns", "generic")
_FIELDS = ["url", "published_at", "location", "doc_number", "languages", "turn_count", "body", "layout"]


def coverage_index(settings) -> str:
    return f"{settings.state_index}-coverage"


def _has(doc: dict) -> dict[str, bool]:
    at = doc.get("published_at") or ""
    return {"time": "T00:00:00" not in at, "place": bool(doc.get("location")),
            "doc_number": bool(doc.get("doc_number")), "languages": bool(doc.get("languages")),
            "turns": int(doc.get("turn_count") or 0) > 1, "generic": doc.get("layout") == "generic"}


def run_coverage(es, index: str, profile: SiteProfile, since: datetime | None, *,
                 last: int | None = None) -> dict[str, dict]:
    """Per profile section: documents indexed since ``since`` (this run), or the ``last`` documents
    indexed (newest first), with their shares and mean paragraphs."""
    es.indices.refresh(index=index)
    if last is not None:
        hits = es.search(index=index, size=last, source_includes=_FIELDS,
                         sort=[{"indexed_at": {"order": "desc", "unmapped_type": "date"}}])["hits"]["hits"]
    else:
        hits = es.search(index=index, size=10000, source_includes=_FIELDS,
                         query={"range": {"indexed_at": {"gte": since.isoformat()}}})["hits"]["hits"]
    by_section: dict[str, list[dict]] = defaultdict(list)
    for hit in hits:
        source = hit["_source"]
        section = profile.crawl.section_of(source.get("url"))
        by_section[section.name if section else "unknown"].append(source)
    out = {}
    for name, docs in by_section.items():
        flags = [_has(d) for d in docs]
        out[name] = {"documents": len(docs),
                     "shares": {k: round(sum(f[k] for f in flags) / len(docs), 4) for k in SHARES},
                     "mean_paragraphs": round(sum((d.get("body") or "").count("\n\n") + 1 for d in docs) / len(docs), 2)}
    return out


def record_coverage(es, settings, profile: SiteProfile, index: str, since: datetime | None, run_id: str,
                    now: datetime | None = None, *, last: int | None = None) -> dict[str, dict]:
    """Store this run's coverage (one document per section) and return it. ``last``: the coverage
    of the newest documents instead, stored as a fallback that no later comparison takes for a run."""
    now = now or datetime.now(timezone.utc)
    coverage = run_coverage(es, index, profile, since, last=last)
    for section, data in coverage.items():
        es.index(index=coverage_index(settings), id=f"{run_id}-{section}",
                 document={"run_id": run_id, "at": now.isoformat(), "section": section, **data,
                           **({"fallback": True} if last is not None else {})})
    if coverage:  # nothing stored: the index may not exist yet
        es.indices.refresh(index=coverage_index(settings))
    return coverage


def judge_run(es, settings, profile: SiteProfile, index: str, since: datetime, run_id: str) -> dict:
    """The drift check of one run: its documents' coverage against the window's runs; when the run
    indexed nothing new, the newest ``drift.judge_last`` documents of the index instead (said in
    ``judged``). Returns ``{"judged", "sections", "alarms"}``."""
    coverage = record_coverage(es, settings, profile, index, since, run_id)
    judged = f"this run's {sum(c['documents'] for c in coverage.values())} new or updated documents"
    if not coverage:
        last = profile.crawl.drift.judge_last
        coverage = record_coverage(es, settings, profile, index, None, run_id, last=last)
        judged = (f"nothing new this run: judged the last {last} documents of {index} instead "
                  f"({sum(c['documents'] for c in coverage.values())} found)")
    return {"judged": judged, "sections": coverage, "alarms": drift_alarms(es, settings, profile, run_id)}


def drift_alarms(es, settings, profile: SiteProfile, run_id: str, now: datetime | None = None) -> list[str]:
    """One message per section share that moved by more than the threshold from the window's mean."""
    rules = profile.crawl.drift
    now = now or datetime.now(timezone.utc)
    name = coverage_index(settings)
    if not es.indices.exists(index=name):
        return []
    es.indices.refresh(index=name)
    start = (now - timedelta(days=rules.window_days)).isoformat()
    hits = es.search(index=name, size=10000, query={"range": {"at": {"gte": start}}})["hits"]["hits"]
    current = {h["_source"]["section"]: h["_source"] for h in hits if h["_source"]["run_id"] == run_id}
    alarms = []
    for section, latest in sorted(current.items()):
        # Fallback entries (a quiet run's newest documents) are no run of their own: never the past.
        past = [h["_source"] for h in hits if h["_source"]["section"] == section and h["_source"]["run_id"] != run_id
                and not h["_source"].get("fallback")]
        if latest["documents"] < rules.min_documents:
            continue
        for share in SHARES:
            # Runs recorded before a share existed do not count for it.
            measured = [p for p in past if share in p["shares"]]
            past_docs = sum(p["documents"] for p in measured)
            if share not in latest["shares"] or past_docs < rules.min_documents:
                continue
            before = sum(p["shares"][share] * p["documents"] for p in measured) / past_docs
            now_share = latest["shares"][share]
            if abs(now_share - before) > rules.threshold:
                what = "read by the generic fallback" if share == "generic" else f"{share} found"
                alarms.append(f"template drift in section {section}: {what} on {now_share:.0%} of "
                              f"{latest['documents']} documents this run, {before:.0%} over the previous "
                              f"{rules.window_days} days (threshold {rules.threshold:.0%}); check the selectors "
                              "with `mfa-ingest check-site`")
    return alarms


def newest_indexed_at(es, index: str) -> datetime | None:
    """When the newest document of ``index`` was indexed (None: no document)."""
    resp = es.search(index=index, size=0, aggs={"newest": {"max": {"field": "indexed_at"}}}).body
    value = resp["aggregations"]["newest"].get("value")
    return datetime.fromtimestamp(value / 1000, tz=timezone.utc) if value is not None else None


def freshness(es, index: str) -> tuple[datetime | None, int]:
    """(newest ``indexed_at``, document count) of ``index``, after a refresh: what the nightly
    quality check judges."""
    es.indices.refresh(index=index)
    return newest_indexed_at(es, index), int(es.count(index=index)["count"])
