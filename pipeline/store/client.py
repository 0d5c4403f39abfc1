"""Stage store: the Elasticsearch client, built once from the settings, and the read helpers.

The one client factory (``connect``; a run's context opens its client through it). Reads
go through the client's own retries (busy or unavailable answers, timeouts); writes switch
those off and go through the one write policy in ``writer.py``.
"""

from __future__ import annotations

import re
from typing import Any, Iterator

from elastic_transport import ConnectionError as TransportConnectionError
from elastic_transport import ConnectionTimeout, TlsError
from elasticsearch import AuthenticationException, AuthorizationException, Elasticsearch, NotFoundError, helpers
from elasticsearch.serializer import OrjsonSerializer

from pipeline.settings import Settings

# Statuses worth another try: the node is busy or a shard is briefly unavailable.
RETRY_STATUSES = (429, 502, 503, 504)


def connect(settings: Settings) -> Elasticsearch:
    """A client for the node in ``settings``; its retries (busy/unavailable answers, timeouts) serve reads."""
    auth: dict[str, Any] = {}
    if settings.es_api_key is not None:
        auth["api_key"] = settings.es_api_key.get_secret_value()
    elif settings.es_username:
        password = settings.es_password.get_secret_value() if settings.es_password else ""
        auth["basic_auth"] = (settings.es_username, password)
    options: dict[str, Any] = {}
    if settings.es_url.startswith("https"):
        options["verify_certs"] = settings.es_verify_certs
        if settings.es_ca_certs is not None:
            options["ca_certs"] = str(settings.es_ca_certs)
    return Elasticsearch(
        settings.es_url,
        request_timeout=settings.es_request_timeout,
        retry_on_status=RETRY_STATUSES,
        retry_on_timeout=True,
        max_retries=3,
        # orjson (pinned) writes the bulk bodies' action lines and side documents and reads
        # the answers several times faster than the standard json module; the same JSON.
        serializer=OrjsonSerializer(),
        **auth,
        **options,
    )


def scan(es: Elasticsearch, index: str, query: dict) -> Iterator[dict]:
    """Every hit of ``query`` in ``index`` (a scroll: any number, read in pages)."""
    yield from helpers.scan(es, index=index, query={"query": query})


def error_kind(exc: BaseException) -> str | None:
    """What an Elasticsearch error says about the environment, for the CLI's and the DAGs' messages:
    ``tls`` (its certificate did not verify), ``unreachable`` (no answer), ``credentials`` (401), ``forbidden`` (403), ``missing`` (404: an
    index or an index design); None for any other exception."""
    if isinstance(exc, TlsError):  # a ConnectionError too, but the node did answer
        return "tls"
    if isinstance(exc, (TransportConnectionError, ConnectionTimeout)):
        return "unreachable"
    if isinstance(exc, AuthenticationException):
        return "credentials"
    if isinstance(exc, AuthorizationException):
        return "forbidden"
    if isinstance(exc, NotFoundError):
        return "missing"
    return None


def error_reason(exc: BaseException) -> str:
    """The node's own reason of an error answer, the SSL library's words of a TLS failure
    (``certificate verify failed: self-signed certificate in certificate chain``), else the exception's text."""
    if isinstance(exc, TlsError):
        found = re.search(r"\[SSL: [A-Z_]+\] ([^()\]']+)", str(exc))
        return found.group(1).strip() if found else str(exc)
    try:
        return exc.body["error"]["reason"]  # type: ignore[attr-defined]
    except Exception:  # a body of another shape, or no answer
        return str(exc)
