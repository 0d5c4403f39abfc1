"""Replaying damaged or doubtful archives into the real node (issue 22): a truncated body, an
anti-bot challenge or an older copy never changes a stored document; every input has one outcome."""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from pipeline.context import RunContext
from pipeline.ingest import ingest_archive
from mfa_replica.pages import CHALLENGE
from tests.conftest import assert_accounted

PAGE = (Path(__file__).resolve().parents[2] / "pipeline" / "data" / "eval" / "current_en.html").read_bytes()
URL = "https://mid.ru/en/press_service/minister_speeches/1813001/"
# A challenge that extraction would read as a page: a title and a date line around the marker.
TITLED_CHALLENGE = CHALLENGE.replace("<body>", "<body><h1>Foreign Minister Sergey Lavrov’s statement</h1>"
                                     "<p>9 June 2022</p><p>Please wait while we check your browser, it takes a "
                                     "few seconds.</p>").encode()


def newer_text(page: bytes = PAGE) -> bytes:
    """The same transcript edited: one sentence more in its first paragraph."""
    said = b"share the main results."
    assert said in page
    return page.replace(said, said + b" We also agreed to meet again before the end of the year.", 1)


def _chunked(body: bytes, *, last: bool) -> bytes:
    parts = [body[i:i + 2000] for i in range(0, len(body), 2000)]
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts) + (b"0\r\n\r\n" if last else b"")


def write_warc(path: Path, records: list[tuple[bytes, list[tuple[str, str]], str, dict]],
               urls: list[str] | None = None) -> Path:
    """(payload as on the wire, extra HTTP headers, WARC-Date, extra WARC headers) per response record."""
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=True)
    for (wire, headers, date, warc_headers), url in zip(records, urls or [URL] * len(records)):
        http = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8"), *headers],
                                protocol="HTTP/1.1")
        writer.write_record(writer.create_warc_record(url, "response", payload=io.BytesIO(wire), http_headers=http,
                                                      warc_headers_dict={"WARC-Date": date, **warc_headers}))
    path.write_bytes(out.getvalue())
    return path


def stored(es, settings) -> dict:
    es.indices.refresh(index=settings.index_alias)
    hits = es.search(index=settings.index_alias, size=10)["hits"]["hits"]
    assert len(hits) == 1, [h["_id"] for h in hits]
    return {**hits[0]["_source"], "_id": hits[0]["_id"]}


def replay(paths, settings):
    report = ingest_archive(RunContext.build(settings), paths)
    assert_accounted(report)
    return report


def test_a_truncated_newer_copy_never_replaces_the_stored_text(es, settings, tmp_path):
    """Issue 22 item 2: a chunked body missing its last chunk, a gzip Content-Encoding stream cut
    at 80%, no length header and 80% of the body, a WARC-Truncated record: each came in newer
    than the stored text and replaced it (3,377 -> 2,690 words, version 2)."""
    first = replay([write_warc(tmp_path / "a.warc.gz", [(PAGE, [], "2022-06-09T12:00:00Z", {})])], settings)
    assert first.new == 1
    before = stored(es, settings)
    edited = newer_text()
    packed = gzip.compress(edited)
    cuts = [
        (_chunked(edited, last=False), [("Transfer-Encoding", "chunked")], "2022-06-10T12:00:00Z", {}),
        (packed[: len(packed) * 4 // 5], [("Content-Encoding", "gzip")], "2022-06-10T12:01:00Z", {}),
        (edited[: len(edited) * 4 // 5], [], "2022-06-10T12:02:00Z", {}),
        (edited[: len(edited) * 4 // 5], [], "2022-06-10T12:03:00Z", {"WARC-Truncated": "length"}),
    ]
    report = replay([write_warc(tmp_path / "b.warc.gz", cuts)], settings)
    assert report.read == 4 and report.failed == 4 and report.failures_by_kind == {"truncated": 4}, report.summary_lines()
    after = stored(es, settings)
    assert (after["word_count"], after["doc_version"], after["content_hash"]) == \
        (before["word_count"], before["doc_version"], before["content_hash"])

    # the whole newer copy, framed any of these ways, does come in
    whole = replay([write_warc(tmp_path / "c.warc.gz", [(_chunked(edited, last=True), [("Transfer-Encoding", "chunked")],
                                                          "2022-06-11T12:00:00Z", {})])], settings)
    assert whole.updated == 1, whole.summary_lines()
    assert stored(es, settings)["doc_version"] == 2


def test_a_challenge_replayed_into_a_fresh_index_is_blocked_not_a_transcript(es, settings, tmp_path):
    """Issue 22 item 3: a challenge from a WARC into a fresh index was indexed as a transcript
    ("Please enable JavaScript...", dated 2000-01-01, exit 0)."""
    warc = write_warc(tmp_path / "a.warc.gz", [(CHALLENGE.encode(), [], "2022-06-09T12:00:00Z", {}),
                                               (TITLED_CHALLENGE, [], "2022-06-09T12:00:00Z", {})])
    dump = tmp_path / "dumps"
    dump.mkdir()
    (dump / "challenge.txt").write_text("Please enable JavaScript to view the page content.\n"
                                        "Data processing... Please, wait.\n", encoding="utf-8")
    report = replay([warc, dump], settings)
    assert report.read == 3 and report.failures_by_kind == {"blocked": 3}, report.summary_lines()
    es.indices.refresh(index=settings.index_alias)
    assert es.count(index=settings.index_alias)["count"] == 0


def test_a_challenge_with_an_article_like_title_and_date_is_blocked(es, settings, tmp_path):
    """The challenge test runs before extraction: a challenge page that extraction would read
    (a title and a date line around the marker) is blocked, and a stored transcript stays."""
    replay([write_warc(tmp_path / "a.warc.gz", [(PAGE, [], "2022-06-09T12:00:00Z", {})])], settings)
    before = stored(es, settings)
    report = replay([write_warc(tmp_path / "b.warc.gz", [(TITLED_CHALLENGE, [], "2022-06-10T12:00:00Z", {})])],
                    settings)
    assert report.failures_by_kind == {"blocked": 1}, report.summary_lines()
    assert stored(es, settings)["content_hash"] == before["content_hash"]


@pytest.mark.parametrize("newer_first", [True, False], ids=["newer first in the file", "older first"])
def test_copies_of_one_transcript_in_one_chunk_are_taken_in_date_order(es, settings, tmp_path, newer_first):
    """Issue 22 item 4: with the same transcript twice in one bulk chunk, the copy later in the
    file won whatever its date; the newer text ended up in neither the document nor its
    history, and the other input's source and URL were dropped (right with chunk size 1)."""
    from pipeline.store.history import history

    other_url = URL + "?lang=en"  # another URL of the same article and language
    older = (PAGE, [], "2022-06-09T12:00:00Z", {})
    newer = (newer_text(), [], "2022-06-10T12:00:00Z", {})
    path = write_warc(tmp_path / "a.warc.gz", [newer, older] if newer_first else [older, newer], urls=[URL, other_url])
    report = replay([path], settings)
    assert report.failed == 0, report.summary_lines()
    doc = stored(es, settings)
    es_text = es.get(index=settings.index_alias, id=doc["_id"])["_source"]["body"]
    assert "We also agreed to meet again before the end of the year." in es_text
    assert len(doc["sources"]) == 2, doc["sources"]
    assert {URL, other_url} <= set(doc["urls"]) or len(doc["urls"]) == 2, doc["urls"]
    kept = history(es, settings.index_alias, doc["_id"])
    assert len({v["content_hash"] for v in kept}) == 2, kept
    assert doc["content_hash"] in {v["content_hash"] for v in kept if v["doc_version"] == doc["doc_version"]}


def _members(records: list[tuple[str, bytes]]) -> list[bytes]:
    """One gzip member per record: (type, payload) with type response, request or revisit."""
    members = []
    for kind, payload in records:
        out = io.BytesIO()
        writer = WARCWriter(out, gzip=True)
        if kind == "response":
            http = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8"),
                                               ("Content-Length", str(len(payload)))], protocol="HTTP/1.1")
            record = writer.create_warc_record(URL, "response", payload=io.BytesIO(payload), http_headers=http,
                                               warc_headers_dict={"WARC-Date": "2022-06-10T12:00:00Z"})
        elif kind == "request":
            record = writer.create_warc_record(URL, "request", http_headers=StatusAndHeaders(
                "GET /en/press_service/minister_speeches/1813001/ HTTP/1.1", [("Host", "mid.ru")], is_http_request=True))
        else:
            record = writer.create_revisit_record(URL, digest="sha1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", refers_to_uri=URL,
                                                  refers_to_date="2022-06-09T12:00:00Z")
        writer.write_record(record)
        members.append(out.getvalue())
    return members


def test_damaged_archives_with_a_newer_text_leave_the_stored_document_unchanged(es, settings, tmp_path):
    """Issue 22: replaying the damaged fixtures changes no stored document unless a whole, newer,
    plausible text came in, and each file's report accounts for every record."""
    replay([write_warc(tmp_path / "a.warc.gz", [(PAGE, [], "2022-06-09T12:00:00Z", {})])], settings)
    before = stored(es, settings)
    edited = newer_text()

    bad_crc = _members([("request", b""), ("response", edited), ("revisit", b"")])
    broken = bytearray(bad_crc[1])
    broken[-8] ^= 0xFF  # the CRC of the member holding the newer text
    (tmp_path / "crc.warc.gz").write_bytes(bad_crc[0] + bytes(broken) + bad_crc[2])

    one_stream = gzip.compress(b"".join(gzip.decompress(m) for m in _members([("request", b""), ("response", edited)])))
    (tmp_path / "stream.warc.gz").write_bytes(one_stream[: len(one_stream) * 9 // 10])

    http = b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\r\n" + edited
    version = b"1 0 mfa-test\nURL IP-address Archive-date Content-type Archive-length\n"
    arc = (f"filedesc://t.arc 0.0.0.0 20220610120000 text/plain {len(version)}\n".encode() + version + b"\n"
           + f"{URL} 127.0.0.1 20220610120000 text/html {len(http)}\n".encode() + http)
    (tmp_path / "cut.arc").write_bytes(arc[:-300])

    for name, records in [("crc.warc.gz", 3), ("stream.warc.gz", 2), ("cut.arc", 2)]:
        report = replay([tmp_path / name], settings)
        assert report.new == report.updated == 0 and report.failed >= 1, (name, report.summary_lines())
        assert report.read + report.extra["warc_records_skipped"] >= records, (name, report.model_dump(mode="json"))
        after = stored(es, settings)
        assert (after["content_hash"], after["doc_version"]) == (before["content_hash"], before["doc_version"]), name
