"""Source: CDX index answers of web archives -> Captures (the archive backfill's discovery).

Two shapes answer a CDX query with ``output=json``: the Internet Archive's CDX server
sends one JSON array of arrays whose first row names the fields (``urlkey, timestamp,
original, mimetype, statuscode, digest, length``); pywb (which Common Crawl's index
server runs, and any institutional or private pywb) sends JSON lines, one object per
capture, with its own field names (``url, mime, status``, and ``filename, offset,
length`` of the WARC record). ``parse_cdx`` reads both into one ``Capture``.

A capture is read raw (no rewriting) at ``{replay}{timestamp}id_/{original URL}``
(``replay_url``); ``split_replay_url`` reads the timestamp and the original URL back out
of such an address (a redirect inside the archive lands on another timestamp).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone

# The field names of the two servers, each to ours.
_ALIASES = {"original": "url", "mimetype": "mime", "statuscode": "status"}
_REPLAY = re.compile(r"^(?P<ts>\d{4,14})(?:[a-z]{2}_)?/(?P<url>.+)$")


@dataclass(frozen=True)
class Capture:
    """One capture a CDX server lists."""

    url: str  # the original URL
    timestamp: str  # 14 digits, UTC
    status: str  # "200", "301", "404"; "-" for a revisit or warcinfo record
    mime: str
    digest: str
    filename: str | None = None  # WARC file, offset and length of the record (pywb, Common Crawl)
    offset: int | None = None
    length: int | None = None

    @property
    def captured_at(self) -> datetime:
        stamp = self.timestamp.ljust(14, "0")
        return datetime.strptime(stamp[:14], "%Y%m%d%H%M%S").replace(tzinfo=timezone.utc)

    @property
    def is_html(self) -> bool:
        return self.mime.split(";")[0].strip().lower() in ("text/html", "application/xhtml+xml", "warc/revisit")


def parse_cdx(body: bytes) -> list[Capture]:
    """The captures of one CDX answer in either shape (an empty answer is no captures).
    Raises ValueError for an answer that is neither."""
    text = body.decode("utf-8", "replace").strip()
    if not text:
        return []
    if text.startswith("["):  # the Internet Archive: [[header...], [row...], ...]
        rows = json.loads(text)
        if not rows:
            return []
        header, *data = rows
        return [_capture(dict(zip(header, row))) for row in data]
    return [_capture(json.loads(line)) for line in text.splitlines() if line.strip()]


def _capture(fields: dict) -> Capture:
    fields = {_ALIASES.get(k, k): v for k, v in fields.items()}
    if not fields.get("url") or not fields.get("timestamp"):
        raise ValueError(f"CDX row without url or timestamp: {fields}")

    def number(key: str) -> int | None:
        value = fields.get(key)
        return int(value) if value not in (None, "", "-") else None

    return Capture(url=fields["url"], timestamp=str(fields["timestamp"]), status=str(fields.get("status") or "-"),
                   mime=str(fields.get("mime") or ""), digest=str(fields.get("digest") or ""),
                   filename=fields.get("filename") or None, offset=number("offset"), length=number("length"))


def replay_url(prefix: str, timestamp: str, url: str) -> str:
    """Where a capture is read raw: ``{prefix}{timestamp}id_/{url}``."""
    return f"{prefix.rstrip('/')}/{timestamp}id_/{url}"


def split_replay_url(prefix: str, address: str) -> tuple[str, str] | None:
    """(timestamp, original URL) of a replay address under ``prefix``, or None."""
    head = prefix.rstrip("/") + "/"
    if not address.startswith(head):
        return None
    found = _REPLAY.match(address[len(head):])
    return (found["ts"], found["url"]) if found else None
