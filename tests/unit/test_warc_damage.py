"""Damaged WARC files (issue 11, item 3): a cut-short record is a Failure named
``truncated``, never a Page; a corrupt gzip member is skipped, counted as a
Failure, and every record after it is still read."""

from __future__ import annotations

import io
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from pipeline.model.records import Failure, Page
from pipeline.sources.warc import iter_warc

URL = "https://mid.ru/en/press_service/minister_speeches/{}/"


def _body(n: int) -> bytes:
    return (f"<html><body><h1>Page {n}</h1>" + "<p>Speech paragraph number %d.</p>" % n * 40
            + "</body></html>").encode()


def _record(n: int, *, gzip: bool = True, body: bytes | None = None, warc_headers: dict | None = None,
            http_length: int | None = None) -> bytes:
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=gzip)
    payload = _body(n) if body is None else body
    headers = [("Content-Type", "text/html; charset=utf-8"),
               ("Content-Length", str(len(payload) if http_length is None else http_length))]
    record = writer.create_warc_record(URL.format(n), "response", payload=io.BytesIO(payload),
                                       http_headers=StatusAndHeaders("200 OK", headers, protocol="HTTP/1.1"),
                                       warc_headers_dict=warc_headers or {})
    writer.write_record(record)
    return out.getvalue()


def _read(tmp_path: Path, data: bytes, name: str = "t.warc.gz"):
    path = tmp_path / name
    path.write_bytes(data)
    return list(iter_warc(path))


def test_record_marked_warc_truncated_is_a_failure(tmp_path):
    items = _read(tmp_path, _record(1) + _record(2, warc_headers={"WARC-Truncated": "length"}) + _record(3))
    assert [type(i) for i in items] == [Page, Failure, Page]
    assert items[1].reason.startswith("truncated") and items[1].url == URL.format(2)


def test_payload_shorter_than_the_http_content_length_is_a_failure(tmp_path):
    cut = _body(2)[:300]
    items = _read(tmp_path, _record(1) + _record(2, body=cut, http_length=len(_body(2))) + _record(3))
    assert [type(i) for i in items] == [Page, Failure, Page]
    assert items[1].reason.startswith("truncated")


def test_last_record_cut_short_in_the_file_is_a_failure(tmp_path):
    data = _record(1, gzip=False) + _record(2, gzip=False)
    items = _read(tmp_path, data[:-400], "t.warc")
    assert [type(i) for i in items] == [Page, Failure]
    assert items[1].reason.startswith("truncated")


def test_corrupt_gzip_member_in_the_middle_is_skipped(tmp_path):
    members = [_record(n) for n in range(1, 7)]
    bad = bytearray(members[2])
    bad[40:120] = b"\x00" * 80  # the deflate stream of record 3 is destroyed
    items = _read(tmp_path, b"".join(members[:2]) + bytes(bad) + b"".join(members[3:]))
    pages = [i for i in items if isinstance(i, Page)]
    failures = [i for i in items if isinstance(i, Failure)]
    assert [p.url for p in pages] == [URL.format(n) for n in (1, 2, 4, 5, 6)]
    assert len(failures) == 1 and "skipped" in failures[0].reason
    assert all(p.content == _body(int(p.url.rstrip("/").rsplit("/", 1)[1])) for p in pages)
