"""Archive of the crawl: every HTTP exchange the fetcher sees goes into rotating WARC files.

Written with warcio: for each exchange a ``request`` record (method, path, the
headers we sent) and a ``response`` record (status line, headers, body as it came
on the wire), linked by WARC-Concurrent-To. What the listing said about an article
(title, date, section) rides along in an ``MFA-Hints`` header of the response
record, so a replay (sources/warc.py) gives the extract stage the same input as
the crawl did. Files rotate after ``settings.warc_max_bytes``; each opens with a
``warcinfo`` record. Thread-safe: the fetcher's workers share one store.
"""

from __future__ import annotations

import json
import threading
from datetime import datetime, timezone
from io import BytesIO
from urllib.parse import urlsplit

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from pipeline import storage
from pipeline.crawl.fetch import FetchResult
from pipeline.model.records import ListingHints
from pipeline.sources.warc import HINTS_HEADER
# Hop-by-hop framing is gone once urllib3 has read the body; keeping it would make
# readers try to de-chunk plain bytes.
_DROPPED = {"transfer-encoding", "content-length"}


class WarcStore:
    def __init__(self, folder: storage.Location, *, prefix: str = "mfa-crawl", max_bytes: int = 256 * 1024 * 1024,
                 software: str = "mfa-ingest"):
        self.folder = storage.normalize(folder)  # a path, or a URL (s3://...): docs/deployment.md
        self.prefix = prefix
        self.max_bytes = max_bytes
        self.software = software
        self.files: list[storage.Location] = []
        self._lock = threading.Lock()
        self._stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
        self._fh = None
        self._writer: WARCWriter | None = None

    # ---- files ------------------------------------------------------------
    def _open(self) -> None:
        storage.make_folder(self.folder)
        path = storage.join(self.folder, f"{self.prefix}-{self._stamp}-{len(self.files):05d}.warc.gz")
        self._fh = storage.open_file(path, "wb")
        self._writer = WARCWriter(self._fh, gzip=True)
        self.files.append(path)
        info = self._writer.create_warcinfo_record(storage.name_of(path), {
            "software": self.software, "format": "WARC File Format 1.1",
            "description": "responses fetched by the mfa-ingest crawler",
        })
        self._writer.write_record(info)

    def _rotate_if_full(self) -> None:
        if self._fh is not None and self._fh.tell() >= self.max_bytes:
            self._close_file()

    def _close_file(self) -> None:
        if self._fh is not None:
            self._fh.close()
        self._fh, self._writer = None, None

    def close(self) -> None:
        with self._lock:
            self._close_file()

    def __enter__(self) -> "WarcStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ---- records ----------------------------------------------------------
    def record(self, result: FetchResult, hints: ListingHints | None = None) -> None:
        """Write the request and response records of one exchange."""
        with self._lock:
            if self._writer is None:
                self._open()
            writer = self._writer
            date = result.fetched_at.strftime("%Y-%m-%dT%H:%M:%SZ")
            response = writer.create_warc_record(
                result.url, "response", payload=BytesIO(result.raw_body),
                http_headers=_response_headers(result),
                warc_headers_dict=_warc_headers(date, hints),
            )
            request = writer.create_warc_record(
                result.url, "request", payload=BytesIO(b""),
                http_headers=_request_headers(result),
                warc_headers_dict={"WARC-Date": date,
                                   "WARC-Concurrent-To": response.rec_headers.get_header("WARC-Record-ID")},
            )
            writer.write_record(request)
            writer.write_record(response)
            self._rotate_if_full()


def _warc_headers(date: str, hints: ListingHints | None) -> dict[str, str]:
    headers = {"WARC-Date": date}
    data = hints.model_dump(mode="json", exclude_none=True) if hints is not None else None
    if data:  # the JSON of model_dump_json(exclude_none=True), kept ASCII as WARC headers were
        headers[HINTS_HEADER] = json.dumps(data, ensure_ascii=True, sort_keys=True)
    return headers


def _response_headers(result: FetchResult) -> StatusAndHeaders:
    headers = [(k, v) for k, v in result.headers if k.lower() not in _DROPPED]
    headers.append(("Content-Length", str(len(result.raw_body))))
    return StatusAndHeaders(f"{result.status} {result.reason}".strip(), headers, protocol=result.http_version)


def _request_headers(result: FetchResult) -> StatusAndHeaders:
    parts = urlsplit(result.url)
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    return StatusAndHeaders(f"GET {target} {result.http_version}", list(result.request_headers),
                            is_http_request=True)
