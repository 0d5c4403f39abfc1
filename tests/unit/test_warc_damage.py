"""Damaged WARC files (issue 11, item 3): a cut-short record is a Failure named
``truncated``, never a Page; a corrupt gzip member is skipped, counted as a
Failure, and every record after it is still read."""

from __future__ import annotations

import gzip
import io
from collections import Counter
from pathlib import Path

import pytest

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


# --- issue 22 item 1: per-member decompression, one-stream gzip, ARC and the other record types ----------

def _big_body(n: int) -> bytes:
    """A body whose record is larger than warcio's read block (the CRC is checked after the text)."""
    return (f"<html><body><h1>Page {n}</h1>" + "".join(f"<p>Paragraph {i} of speech {n}, figure {i * n * 7919 % 100003}.</p>"
                                                    for i in range(3000)) + "</body></html>").encode()


@pytest.mark.parametrize("big", [False, True], ids=["small records", "records over the read block"])
def test_a_member_with_a_bad_crc_is_skipped_and_every_later_record_read(tmp_path, big):
    """Issue 22 item 1: a bad CRC silently dropped every later record (3 of 6 read, no failure)."""
    members = [_record(n, body=_big_body(n) if big else None) for n in range(1, 7)]
    bad = bytearray(members[2])
    bad[-8] ^= 0xFF  # the member's CRC32, nothing else
    start = len(members[0]) + len(members[1])
    items = _read(tmp_path, b"".join(members[:2]) + bytes(bad) + b"".join(members[3:]))
    pages = [i for i in items if isinstance(i, Page)]
    failures = [i for i in items if isinstance(i, Failure)]
    assert [p.url for p in pages] == [URL.format(n) for n in (1, 2, 4, 5, 6)]
    assert len(failures) == 1, failures
    assert f"skipped bytes {start} to the next gzip member at {start + len(bad)}" in failures[0].reason
    assert failures[0].source.endswith(f"#{start}")


def test_a_warc_gz_compressed_as_one_stream_is_read_record_by_record(tmp_path):
    """Issue 22 item 1: one gzip stream for the whole file kept 1 of 6 records (OSError: [Errno 22])."""
    plain = b"".join(_record(n, gzip=False) for n in range(1, 7))
    items = _read(tmp_path, gzip.compress(plain))
    assert [type(i) for i in items] == [Page] * 6
    assert [i.url for i in items] == [URL.format(n) for n in range(1, 7)]
    assert all(i.content == _body(n) for n, i in enumerate(items, 1))
    assert len({i.source for i in items}) == 6


def test_a_one_stream_warc_gz_cut_short_keeps_the_records_before_the_cut(tmp_path):
    plain = b"".join(_record(n, gzip=False, body=_big_body(n)) for n in range(1, 4))
    data = gzip.compress(plain)
    items = _read(tmp_path, data[: len(data) * 3 // 4])
    pages = [i for i in items if isinstance(i, Page)]
    assert [p.url for p in pages] == [URL.format(1), URL.format(2)]
    assert isinstance(items[-1], Failure)
    assert "truncated" in items[-1].reason or "skipped bytes 0 to the end of the file" in items[-1].reason


def test_garbage_after_the_last_member_is_one_failure_naming_its_span(tmp_path):
    data = _record(1) + _record(2)
    items = _read(tmp_path, data + b"\x1b[2J garbage \x00\xff" * 10)
    assert [type(i) for i in items] == [Page, Page, Failure]
    assert f"skipped bytes {len(data)} to the end of the file" in items[2].reason


def test_failure_reasons_are_printable(tmp_path):
    """Issue 22 item 10: a reason quoted the bytes it read (ESC, NUL, 0xff) onto stderr and into
    the dead letters."""
    items = _read(tmp_path, b"\x1b[31mRED\x1b[0m\x00\x07 not a warc \xff\xfe\r\n" * 5, "x.warc")
    assert len(items) == 1 and isinstance(items[0], Failure)
    reason = items[0].one_line()
    assert reason.isprintable(), reason
    failure = Failure(source="a\x1bb", stage="source", reason="bad \x1b[2J\x00 byte \udcff\nnext line")
    assert failure.reason == "bad \\x1b[2J\\x00 byte \\xff next line"
    assert failure.one_line() == "a\\x1bb: source: bad \\x1b[2J\\x00 byte \\xff next line"


def _arc_record(n: int, body: bytes | None = None) -> bytes:
    payload = _body(n) if body is None else body
    http = (b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: %d\r\n\r\n"
            % len(payload)) + payload
    return f"{URL.format(n)} 127.0.0.1 2021120210150{n} text/html {len(http)}\n".encode() + http + b"\n"


def _arc_head() -> bytes:
    version = b"1 0 mfa-test\nURL IP-address Archive-date Content-type Archive-length\n"
    return f"filedesc://t.arc 0.0.0.0 20211202101500 text/plain {len(version)}\n".encode() + version + b"\n"


@pytest.mark.parametrize("name, compress", [("t.arc", False), ("t.arc.gz", True)])
def test_arc_files_are_read_as_arc(tmp_path, name, compress):
    """Issue 22 item 10: ARC files were read as text dumps or 'binary content'; warcio reads them."""
    from pipeline.sources.warc import expand_archive_inputs

    parts = [_arc_head()] + [_arc_record(n) for n in (1, 2, 3)]
    data = b"".join(gzip.compress(p) for p in parts) if compress else b"".join(parts)
    (tmp_path / name).write_bytes(data)
    assert [i.kind for i in expand_archive_inputs(tmp_path)] == ["warc"]
    skipped: Counter = Counter()
    items = list(iter_warc(tmp_path / name, skipped=skipped))
    assert [type(i) for i in items] == [Page] * 3
    assert [i.url for i in items] == [URL.format(n) for n in (1, 2, 3)]
    assert items[0].content == _body(1) and items[0].fetched_at.isoformat() == "2021-12-02T10:15:01+00:00"
    assert skipped == Counter({"not a response record (warcinfo)": 1})


def _typed_record(writer: WARCWriter, kind: str, n: int):
    url = URL.format(n)
    if kind == "request":
        return writer.create_warc_record(url, "request", http_headers=StatusAndHeaders(
            f"GET /en/press_service/minister_speeches/{n}/ HTTP/1.1", [("Host", "mid.ru")], is_http_request=True))
    if kind == "metadata":
        return writer.create_warc_record(url, "metadata", payload=io.BytesIO(b"outlinks: none\n"),
                                         warc_content_type="application/warc-fields")
    if kind == "resource":
        return writer.create_warc_record(url, "resource", payload=io.BytesIO(_body(n)), warc_content_type="text/html")
    if kind == "revisit":
        return writer.create_revisit_record(url, digest="sha1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                                            refers_to_uri=url, refers_to_date="2021-12-01T10:00:00Z",
                                            http_headers=StatusAndHeaders("304 Not Modified", [], protocol="HTTP/1.1"))
    if kind == "warcinfo":
        return writer.create_warcinfo_record("t.warc", {"software": "mfa-test"})
    payload = _body(n)
    headers = [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(payload)))]
    return writer.create_warc_record(url, "response", payload=io.BytesIO(payload),
                                     http_headers=StatusAndHeaders("200 OK", headers, protocol="HTTP/1.1"))


KINDS = ["warcinfo", "request", "response", "metadata", "revisit", "resource", "request", "response"]


@pytest.mark.parametrize("version", ["1.0", "1.1"])
@pytest.mark.parametrize("compress", [True, False])
def test_every_record_type_of_warc_1_0_and_1_1_is_accounted_for(tmp_path, version, compress):
    """The cases of warcio's own sample files (request, revisit, metadata, resource, warcinfo
    records; WARC/1.0 and 1.1; gzipped or not): every record a Page or a counted skip."""
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=compress, warc_version=version)
    for n, kind in enumerate(KINDS, 1):
        writer.write_record(_typed_record(writer, kind, n))
    skipped: Counter = Counter()
    path = tmp_path / ("t.warc.gz" if compress else "t.warc")
    path.write_bytes(out.getvalue())
    items = list(iter_warc(path, skipped=skipped))
    assert [i.url for i in items] == [URL.format(3), URL.format(8)]
    assert all(isinstance(i, Page) for i in items)
    assert len(items) + sum(skipped.values()) == len(KINDS), skipped
    assert skipped["not a response record (revisit)"] == 1 and skipped["not a response record (request)"] == 2


# --- issue 22 item 2: a body not provably whole is a failure of class truncated ------------------------

def _wire_record(n: int, wire: bytes, headers: list[tuple[str, str]]) -> bytes:
    """A response record whose payload is ``wire`` exactly as a server sent it."""
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=True)
    http = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8"), *headers], protocol="HTTP/1.1")
    writer.write_record(writer.create_warc_record(URL.format(n), "response", payload=io.BytesIO(wire),
                                                  http_headers=http))
    return out.getvalue()


def _chunked(body: bytes, *, last: bool) -> bytes:
    parts = [body[i:i + 1000] for i in range(0, len(body), 1000)]
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts) + (b"0\r\n\r\n" if last else b"")


CUTS = {
    "chunked without its last chunk": (lambda b: _chunked(b, last=False), [("Transfer-Encoding", "chunked")]),
    "gzip Content-Encoding cut at 80%": (lambda b: gzip.compress(b)[: len(gzip.compress(b)) * 4 // 5],
                                         [("Content-Encoding", "gzip")]),
    "no length header, cut at 80%": (lambda b: b[: len(b) * 4 // 5], []),
}
WHOLE = {
    "chunked": (lambda b: _chunked(b, last=True), [("Transfer-Encoding", "chunked")]),
    "gzip Content-Encoding": (lambda b: gzip.compress(b), [("Content-Encoding", "gzip")]),
    "no length header": (lambda b: b, []),
    "de-chunked by the archiver, header kept": (lambda b: b, [("Transfer-Encoding", "chunked")]),
}


@pytest.mark.parametrize("cut", list(CUTS))
def test_a_body_cut_short_in_a_warc_is_a_truncated_failure(tmp_path, cut):
    """Issue 22 item 2: these cuts replaced a stored transcript (3,377 -> 2,690 words)."""
    wire, headers = CUTS[cut]
    items = _read(tmp_path, _record(1) + _wire_record(2, wire(_body(2)), headers) + _record(3))
    assert [type(i) for i in items] == [Page, Failure, Page], items
    assert items[1].kind == "truncated" and items[1].reason.startswith("truncated"), items[1]
    assert items[1].url == URL.format(2)


@pytest.mark.parametrize("way", list(WHOLE))
def test_a_whole_body_in_any_framing_is_a_page_with_its_encodings_undone(tmp_path, way):
    wire, headers = WHOLE[way]
    items = _read(tmp_path, _wire_record(2, wire(_body(2)), headers))
    assert [type(i) for i in items] == [Page], items
    assert items[0].content == _body(2)
