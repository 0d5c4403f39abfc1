"""Identity: every key the pipeline gives a thing, each defined once.

- ``canonical_url``: the one spelling of a URL (scheme, host, path, kept query keys);
- ``host_key``: a host as the politeness and allow-lists see it (lower case, no ``www.``);
- ``article_key``: the article a URL names, ``namespace:id`` (the profile's identity
  rules): one article reached by several section paths or language prefixes is one;
- ``url_language``: the content language a URL asks for (``?lang=`` beats the prefix);
- ``document_id``: the Elasticsearch ``_id`` of a transcript: (article, content
  language) when the article is known, else language, day and title;
- ``match_key``: what makes two inputs the same transcript when one has no URL
  (a text dump): language, publication day and normalised title (an untitled one: its
  document number, else the start of its body);
- ``state_key``: the crawl-ledger key of an article URL, folded like documents;
- ``deadletter_id``: one dead letter per refusal of one input, stable across re-runs;
- ``version_id`` / ``text_id``: a kept version of a document in its history (document,
  version number, text), and a text it never had (document, text).

Nothing else in the package hashes or normalises a URL or builds an id.
"""

from __future__ import annotations

import hashlib
import unicodedata
import re
from datetime import datetime
from functools import lru_cache
from re import Pattern
from typing import Iterable, Protocol
from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit, urlunsplit


# What the keys read of the things they name. Structural types, not imports: records and the
# profile import this module, so naming their classes here would tie the three in a circle.
class IdentityRuleLike(Protocol):
    """A profile identity rule (pipeline.profile.IdentityRule)."""

    namespace: str
    pattern: Pattern[str]


class RecordLike(Protocol):
    """A record (pipeline.model.records.Transcript)."""

    language: str
    published_at: datetime
    title: str | None  # None: an untitled record
    doc_number: str | None
    body: str
    event_id: str | None
    url: str | None


class FailureLike(Protocol):
    """A refusal (pipeline.model.records.Failure)."""

    source: str
    stage: str
    reason: str
    url: str | None

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


_LANG_PREFIX = re.compile(r"^/(?P<lang>[a-z]{2})/")


def article_key(url: str | None, rules: Iterable[IdentityRuleLike]) -> str | None:
    """``namespace:id`` of the article a URL names (first matching rule), or None."""
    if not url:
        return None
    path = urlsplit(url.strip()).path
    for rule in rules:
        found = rule.pattern.search(path)
        if found:
            return f"{rule.namespace}:{found.group('id')}"
    return None


def url_language(url: str | None) -> str | None:
    """The content language a URL asks for: ``?lang=xx``, else the ``/xx/`` path prefix
    (which does not decide it when ``lang`` is given: /pt/...?lang=en serves English)."""
    if not url:
        return None
    parts = urlsplit(url.strip())
    asked = parse_qs(parts.query).get("lang")
    if asked and re.fullmatch(r"[a-z]{2}", asked[0].lower()):
        return asked[0].lower()
    prefix = _LANG_PREFIX.match(parts.path)
    return prefix.group("lang") if prefix else None


@lru_cache(maxsize=4096)  # the writer asks a record's match key several times per chunk
def _title_key(title: str) -> str:
    return " ".join(unicodedata.normalize("NFC", title).split()).casefold()


# How much of the body stands for the title of an untitled record that has no document number.
_UNTITLED_KEY_CHARS = 200


def match_key(record: RecordLike) -> str:
    """The same transcript, whatever brought it: language, Moscow publication day, title.

    An untitled record (``title`` None) is named by its document number, else by the start of
    its body: two untitled transcripts of one day must not be taken for one."""
    if record.title is not None:
        name = _title_key(record.title)
    elif record.doc_number:
        name = "#" + record.doc_number
    else:
        name = "~" + _title_key(record.body[:_UNTITLED_KEY_CHARS])
    return f"{record.language}:{record.published_at.date().isoformat()}:{name}"


def document_id(record: RecordLike) -> str:
    """A stable id: (article, content language) when the article is known, else the
    canonical URL, else language, day and title.

    Re-crawling, replaying or reaching the same article by another path gives the
    same id, so Elasticsearch updates the document instead of adding a second one.
    """
    if record.event_id:
        key = f"article:{record.event_id}:{record.language}"
    elif record.url:
        key = "url:" + canonical_url(record.url)
    else:
        key = "doc:" + match_key(record)
    return _digest(key)


def state_key(url: str, rules: Iterable[IdentityRuleLike] = ()) -> str:
    """The crawl ledger's key of an article URL: (article, asked language) when the
    profile names the article, so every path to it is one entry; else the canonical URL."""
    article = article_key(url, rules)
    if article is not None:
        return "doc-" + _digest(f"article:{article}:{url_language(url) or ''}")
    return "doc-" + _digest(canonical_url(url))


def deadletter_id(failure: FailureLike) -> str:
    """The same refusal of the same input keeps one dead letter across re-runs."""
    return _digest("\x1f".join([failure.source, failure.stage, failure.reason, failure.url or ""]))


def version_id(doc_id: str, doc_version: int, content_hash: str) -> str:
    """The history entry of version ``doc_version`` of a document: a text the page goes back to is
    a version of its own (A, B, A: three entries), and writing a version again (a retry, the same
    input twice) is that entry again. The text is in the id too: after a ``rollback`` a number can
    be given twice, and the other text must not be overwritten."""
    return f"{doc_id}-v{doc_version}-{content_hash[:16]}"


def text_id(doc_id: str, content_hash: str) -> str:
    """The history entry of a text a document never had (an older replay's), one per text.
    Until December 2026 every entry had this id, numbered or not (the writer still finds
    those: ``writer._kept_entries``)."""
    return f"{doc_id}-{content_hash[:16]}"
