"""Identity: every key the pipeline gives a thing, each defined once.

- ``canonical_url``: the one spelling of a URL (scheme, host, path, kept query keys);
- ``host_key``: a host as the politeness and allow-lists see it (lower case, no ``www.``);
- ``document_id``: the Elasticsearch ``_id`` of a transcript;
- ``state_key``: the crawl-ledger key of an article URL;
- ``deadletter_id``: one dead letter per refusal of one input, stable across re-runs.

Nothing else in the package hashes or normalises a URL or builds an id.
"""

from __future__ import annotations

import hashlib
import unicodedata
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

if TYPE_CHECKING:  # records imports this module for Transcript.doc_id
    from pipeline.records import Failure, Transcript

# Query keys that change what a page shows; every other key (tracking, paging) is dropped.
KEPT_QUERY_KEYS = frozenset({"lang"})


def _digest(key: str, length: int = 32) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:length]


def host_key(host: str) -> str:
    """A host for comparisons: lower case, no trailing dot, no leading ``www.``."""
    host = host.lower().rstrip(".")
    return host[4:] if host.startswith("www.") else host


def canonical_url(url: str) -> str:
    """Scheme and host lower-cased, www dropped, no fragment, only meaningful query keys."""
    parts = urlsplit(url.strip())
    host = host_key(parts.hostname or "")
    netloc = host if parts.port in (None, 80, 443) else f"{host}:{parts.port}"
    query = urlencode(sorted((k, v) for k, v in parse_qsl(parts.query) if k in KEPT_QUERY_KEYS))
    path = parts.path.rstrip("/") or "/"
    return urlunsplit(("https" if parts.scheme in ("http", "https") else parts.scheme, netloc, path, query, ""))


def _title_key(title: str) -> str:
    return " ".join(unicodedata.normalize("NFC", title).split()).casefold()


def document_id(record: "Transcript") -> str:
    """A stable id: the canonical URL when known, else language, date and title.

    Re-crawling or replaying the same page gives the same id, so Elasticsearch
    updates the document instead of adding a second one.
    """
    if record.url:
        key = "url:" + canonical_url(record.url)
    else:
        key = f"doc:{record.language}:{record.published_at.date().isoformat()}:{_title_key(record.title)}"
    return _digest(key)


def state_key(url: str) -> str:
    """The crawl ledger's key of an article URL."""
    return "doc-" + _digest(canonical_url(url))


def deadletter_id(failure: "Failure") -> str:
    """The same refusal of the same input keeps one dead letter across re-runs."""
    return _digest("\x1f".join([failure.source, failure.stage, failure.reason, failure.url or ""]))
