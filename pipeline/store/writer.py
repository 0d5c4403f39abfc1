"""Stage index: validated Transcripts -> Elasticsearch, through the read/write alias.

Reads the index design from config/elasticsearch/ (the composable template, the
language overlay, the dead-letter mapping) and the node address from Settings.
Writes go to a versioned concrete index (``<alias>-vN``) behind the alias, which
carries ``is_write_index``; reindex.py builds ``-vN+1`` and swaps the alias.

Indexing streams: records are taken in chunks of ``settings.bulk_chunk_size``; for
each chunk the stored content hashes are looked up with one ``mget`` so unchanged
documents are skipped, and the rest go through ``helpers.streaming_bulk``. An
outcome is yielded per record only once Elasticsearch has answered for it.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import logging
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from itertools import islice
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Literal

from elasticsearch import ApiError, Elasticsearch, TransportError, helpers

from pipeline.store.deadletter import failure_document
from pipeline.errors import ConfigError, IndexingError
from pipeline.ids import deadletter_id
from pipeline.records import Failure, Transcript
from pipeline.settings import Settings

log = logging.getLogger(__name__)

TEMPLATE_FILE = "transcripts.template.json"
OVERLAY_FILE = "transcripts.language-overlay.json"
DEADLETTER_FILE = "deadletter.template.json"

# Statuses worth another try: the node is busy or a shard is briefly unavailable.
RETRY_STATUSES = (429, 502, 503, 504)
# How long a chunk keeps retrying while the node does not answer at all.
DEFAULT_RETRY_FOR_S = 120.0

Status = Literal["created", "updated", "unchanged", "failed"]


@dataclass(frozen=True)
class IndexOutcome:
    doc_id: str
    source: str | None
    status: Status
    reason: str | None = None


# --------------------------------------------------------------------------- connection


def connect(settings: Settings) -> Elasticsearch:
    """A client for the node in ``settings``, retrying busy/unavailable answers and timeouts."""
    auth: dict[str, Any] = {}
    if settings.es_api_key is not None:
        auth["api_key"] = settings.es_api_key.get_secret_value()
    elif settings.es_username:
        password = settings.es_password.get_secret_value() if settings.es_password else ""
        auth["basic_auth"] = (settings.es_username, password)
    options: dict[str, Any] = {}
    if settings.es_url.startswith("https"):
        options["verify_certs"] = settings.es_verify_certs
    return Elasticsearch(
        settings.es_url,
        request_timeout=settings.es_request_timeout,
        retry_on_status=RETRY_STATUSES,
        retry_on_timeout=True,
        max_retries=3,
        **auth,
        **options,
    )


# --------------------------------------------------------------------------- index design


@functools.lru_cache(maxsize=32)
def _read_json(path: Path, _mtime_ns: int) -> dict:
    # parsed once per file version: ensure_index runs per run and per DAG task and needs it several times
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    return {k: v for k, v in data.items() if not k.startswith("_comment")}


def _load_json(path: Path) -> dict:
    """A config/elasticsearch/ file without its _comment keys; a copy the caller may change."""
    try:
        mtime_ns = Path(path).stat().st_mtime_ns
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    return copy.deepcopy(_read_json(Path(path), mtime_ns))


def load_config_json(settings_or_dir: Settings | Path, name: str) -> dict:
    """``config/elasticsearch/<name>`` of these settings (or of this config folder)."""
    config_dir = settings_or_dir.config_dir if isinstance(settings_or_dir, Settings) else Path(settings_or_dir)
    return _load_json(config_dir / "elasticsearch" / name)


def create_index_if_missing(es: Elasticsearch, name: str, body: dict) -> bool:
    """Create ``name`` with the body's settings and mappings; True when created here, False when it existed
    (also when a parallel run created it between the check and the create)."""
    if es.indices.exists(index=name):
        return False
    try:
        es.indices.create(index=name, settings=body.get("settings"), mappings=body.get("mappings"))
    except ApiError as exc:
        if exc.error != "resource_already_exists_exception":
            raise
        return False
    return True


def load_template(settings: Settings) -> dict:
    """The declared template body (without index_patterns and language overlay)."""
    return load_config_json(settings, TEMPLATE_FILE)


def load_overlay(settings: Settings) -> dict:
    return load_config_json(settings, OVERLAY_FILE)


def _field_at(properties: dict, dotted: str) -> dict:
    node: dict = {"properties": properties}
    for part in dotted.split("."):
        try:
            node = node["properties"][part]
        except KeyError:
            raise ConfigError(f"language overlay names {dotted!r}, which the base mapping lacks") from None
    return node


def declared_mappings(settings: Settings, *, with_languages: bool) -> dict:
    """The mappings exactly as declared in config: the base, plus the overlay when asked."""
    mappings = copy.deepcopy(load_template(settings)["template"]["mappings"])
    if with_languages:
        for dotted, subfields in load_overlay(settings)["fields"].items():
            field = _field_at(mappings["properties"], dotted)
            field.setdefault("fields", {}).update(copy.deepcopy(subfields))
    return mappings


def node_modules(es: Elasticsearch) -> set[str]:
    """Modules and plugins present on every node of the cluster."""
    nodes = es.nodes.info(metric="plugins").body.get("nodes", {})
    per_node = [
        {m["name"] for m in node.get("modules", [])} | {p["name"] for p in node.get("plugins", [])}
        for node in nodes.values()
    ]
    return set.intersection(*per_node) if per_node else set()


def node_has_language_analyzers(es: Elasticsearch, settings: Settings) -> bool:
    return load_overlay(settings).get("requires_module", "analysis-common") in node_modules(es)


def template_name(alias: str) -> str:
    return f"{alias}-template"


def versioned_name(alias: str, version: int) -> str:
    return f"{alias}-v{version}"


def template_body(es: Elasticsearch, settings: Settings, alias: str) -> dict:
    """The composable template to put for ``alias``, fitted to what the node supports."""
    body = load_template(settings)
    body["index_patterns"] = [f"{alias}-v*"]
    body["template"]["mappings"] = declared_mappings(settings, with_languages=node_has_language_analyzers(es, settings))
    body.setdefault("_meta", {})["alias"] = alias
    return body


def put_template(es: Elasticsearch, settings: Settings, alias: str) -> dict:
    body = template_body(es, settings, alias)
    es.indices.put_index_template(name=template_name(alias), **body)
    return body


def alias_indices(es: Elasticsearch, alias: str) -> dict[str, dict]:
    """Concrete indices behind ``alias`` with their alias properties ({} when none)."""
    if not es.indices.exists_alias(name=alias):
        return {}
    found = es.indices.get_alias(name=alias).body
    return {name: info["aliases"][alias] for name, info in found.items()}


def write_index(es: Elasticsearch, alias: str) -> str | None:
    """The concrete index writes through ``alias`` land in."""
    indices = alias_indices(es, alias)
    if len(indices) == 1:
        return next(iter(indices))
    for name, props in indices.items():
        if props.get("is_write_index"):
            return name
    return None


def ensure_index(es: Elasticsearch, settings: Settings, *, alias: str | None = None) -> str:
    """Put the template, create ``<alias>-v<version>`` behind the alias if missing; return the alias."""
    alias = alias or settings.index_alias
    body = put_template(es, settings, alias)
    if es.indices.exists_alias(name=alias):
        return alias
    if es.indices.exists(index=alias):
        raise ConfigError(f"{alias!r} is a concrete index, not an alias; rename or delete it first")
    first = versioned_name(alias, int(body.get("version", 1)))
    try:
        es.indices.create(index=first, aliases={alias: {"is_write_index": True}})
    except ApiError as exc:
        if exc.error != "resource_already_exists_exception":
            raise
        # Another run created it between our check and now; make sure it carries the alias.
        es.indices.update_aliases(actions=[{"add": {"index": first, "alias": alias, "is_write_index": True}}])
    log.info("created %s behind alias %s", first, alias)
    return alias


def refresh(es: Elasticsearch, index: str) -> None:
    es.indices.refresh(index=index)


# --------------------------------------------------------------------------- indexing


def document_json(record: Transcript, *, doc_version: int, indexed_at: datetime) -> str:
    """The stored document, serialised as the bulk body takes it: pydantic's own serialiser
    writes the record, the indexer's fields are appended. Kibana counts documents, not
    nested turns, hence the per-document turn and question counts to sum."""
    extra = json.dumps({
        "turn_count": len(record.turns),
        "question_count": sum(1 for turn in record.turns if turn.role == "question"),
        "doc_version": doc_version,
        "indexed_at": indexed_at.isoformat(),
    }, ensure_ascii=False, separators=(",", ":"))
    return record.model_dump_json()[:-1] + "," + extra[1:]


def _chunks(records: Iterable[Transcript], size: int) -> Iterator[list[Transcript]]:
    it = iter(records)
    while chunk := list(islice(it, max(1, size))):
        yield chunk


def _retrying(call: Callable[[], Any], what: str, retry_for: float) -> Any:
    """Run ``call``; while the node does not answer, retry with backoff for ``retry_for`` seconds."""
    deadline = time.monotonic() + retry_for
    delay = 0.5
    while True:
        try:
            return call()
        except (TransportError, ApiError) as exc:  # the node is away, starting, or recovering its shards
            if isinstance(exc, ApiError) and exc.status_code not in RETRY_STATUSES:
                raise
            if time.monotonic() + delay > deadline:
                raise IndexingError(f"{what}: Elasticsearch did not answer for {retry_for:.0f}s: {exc}") from exc
            log.warning("%s: %s; retrying in %.1fs", what, exc, delay)
            time.sleep(delay)
            delay = min(delay * 2, 10.0)


def _stored_state(es: Elasticsearch, index: str, ids: list[str], retry_for: float) -> dict[str, dict]:
    """content_hash and doc_version of the documents already stored, by id (realtime, no refresh needed)."""
    resp = _retrying(
        lambda: es.mget(index=index, ids=ids, source_includes=["content_hash", "doc_version"]),
        "looking up stored hashes", retry_for,
    )
    return {d["_id"]: d.get("_source", {}) for d in resp.body["docs"] if d.get("found")}


def _reason(info: dict) -> str:
    error = info.get("error")
    if isinstance(error, dict):
        text = f"{error.get('type', 'error')}: {error.get('reason', '')}"
        cause = error.get("caused_by")
        if isinstance(cause, dict):
            text += f" ({cause.get('type')}: {cause.get('reason')})"
        return f"status {info.get('status')}: {text}"
    return f"status {info.get('status')}: {error or 'refused'}"


def _bulk_chunk(
    es: Elasticsearch, actions: dict[str, dict], sources: dict[str, str | None], *, max_retries: int, retry_for: float,
) -> Iterator[IndexOutcome]:
    """Send one chunk; yield an outcome per document as Elasticsearch answers for it.

    streaming_bulk retries items refused with 429/5xx ``max_retries`` times with
    backoff; items still refused that way, and whole requests that got no
    answer, are sent again until ``retry_for`` seconds have passed.
    """
    pending = dict(actions)
    deadline = time.monotonic() + retry_for
    delay = 0.5
    while pending:
        try:
            for ok, item in helpers.streaming_bulk(
                es, list(pending.values()), chunk_size=len(pending), max_chunk_bytes=100 * 1024 * 1024,
                raise_on_error=False, raise_on_exception=False, max_retries=max_retries,
                initial_backoff=0.5, max_backoff=10, retry_on_status=RETRY_STATUSES,
            ):
                _op, info = next(iter(item.items()))
                doc_id = info.get("_id")
                if doc_id not in pending:
                    continue
                if ok:
                    del pending[doc_id]
                    status: Status = "created" if info.get("result") == "created" else "updated"
                    yield IndexOutcome(doc_id, sources.get(doc_id), status)
                elif info.get("status") in RETRY_STATUSES and time.monotonic() + delay <= deadline:
                    continue  # still busy: stays pending for the next round
                else:
                    del pending[doc_id]
                    yield IndexOutcome(doc_id, sources.get(doc_id), "failed", _reason(info))
            problem = f"{len(pending)} documents still refused as busy"
        except TransportError as exc:  # the request never got an answer: nothing was acknowledged
            problem = str(exc)
            if time.monotonic() + delay > deadline:
                raise IndexingError(
                    f"bulk of {len(pending)} documents: Elasticsearch did not answer for {retry_for:.0f}s: {exc}"
                ) from exc
        if pending:
            log.warning("bulk: %s; retrying %d documents in %.1fs", problem, len(pending), delay)
            time.sleep(delay)
            delay = min(delay * 2, 10.0)


def _index_chunk(es: Elasticsearch, chunk: list[Transcript], *, index: str, max_retries: int,
                 retry_for: float) -> list[IndexOutcome]:
    """Look up the stored hashes of one chunk, send what changed, return an outcome per document."""
    by_id: dict[str, Transcript] = {}
    for record in chunk:
        by_id[record.doc_id] = record  # a later copy of the same page wins
    stored = _stored_state(es, index, list(by_id), retry_for)
    outcomes: list[IndexOutcome] = []
    actions: dict[str, dict] = {}
    sources: dict[str, str | None] = {}
    now = datetime.now(timezone.utc)
    for doc_id, record in by_id.items():
        sources[doc_id] = record.source
        old = stored.get(doc_id)
        if old is not None and old.get("content_hash") == record.content_hash:
            outcomes.append(IndexOutcome(doc_id, record.source, "unchanged"))
            continue
        version = int(old.get("doc_version") or 0) + 1 if old is not None else 1
        actions[doc_id] = {
            "_op_type": "index", "_index": index, "_id": doc_id,
            "_source": document_json(record, doc_version=version, indexed_at=now),
        }
    if actions:
        outcomes.extend(_bulk_chunk(es, actions, sources, max_retries=max_retries, retry_for=retry_for))
    return outcomes


def index_records(
    es: Elasticsearch,
    records: Iterable[Transcript],
    *,
    index: str,
    settings: Settings,
    max_retries: int = 5,
    retry_for: float = DEFAULT_RETRY_FOR_S,
) -> Iterator[IndexOutcome]:
    """Index ``records`` into ``index`` (normally the alias); yield one outcome per record.

    Unchanged documents (same content hash as stored) are not re-sent. Documents
    refused by Elasticsearch come out as "failed" with its reason; a node that
    stays unreachable for ``retry_for`` seconds raises IndexingError.

    One chunk is sent by a worker thread while the caller's generator builds the
    next (extraction overlaps the wait for Elasticsearch); chunks still go one
    at a time and in order, and at most three are in memory.
    """
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mfa-bulk")
    in_flight: Future | None = None
    try:
        for chunk in _chunks(records, settings.bulk_chunk_size):
            future = pool.submit(_index_chunk, es, chunk, index=index, max_retries=max_retries, retry_for=retry_for)
            if in_flight is not None:
                yield from in_flight.result()
            in_flight = future
        if in_flight is not None:
            yield from in_flight.result()
    finally:
        # On an error or an abandoned generator: drop the queued chunk, let the running one finish.
        pool.shutdown(wait=True, cancel_futures=True)


# --------------------------------------------------------------------------- dead letters


def ensure_deadletter_index(es: Elasticsearch, settings: Settings) -> str:
    name = settings.deadletter_index
    create_index_if_missing(es, name, load_config_json(settings, DEADLETTER_FILE))
    return name


def dead_letter_sink(es: Elasticsearch, settings: Settings) -> Callable[[Failure], None]:
    """A callable writing each Failure to the dead-letter index.

    A failure to write a dead letter is logged, not raised: the JSON-lines
    dead-letter file (deadletter.py) still holds it, and the run goes on.
    """
    name = ensure_deadletter_index(es, settings)

    def sink(failure: Failure) -> None:
        try:
            es.index(index=name, id=deadletter_id(failure), document=failure_document(failure))
        except (ApiError, TransportError) as exc:
            log.error("could not write dead letter for %s: %s", failure.source, exc)

    return sink
