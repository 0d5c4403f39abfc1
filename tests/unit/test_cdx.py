"""CDX answers in the two shapes archives send (pipeline/sources/cdx.py)."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from pipeline.sources.cdx import parse_cdx, replay_url, split_replay_url

# The Internet Archive's output=json: one array of arrays, the header row first.
IA = json.dumps([
    ["urlkey", "timestamp", "original", "mimetype", "statuscode", "digest", "length"],
    ["ru,mid)/en/press_service/minister_speeches/1785002", "20211208120000",
     "https://mid.ru/en/press_service/minister_speeches/1785002/", "text/html", "200",
     "B742VRALRG4UKVJZNJNFJUM7D4NT22FL", "5939"],
    ["ru,mid)/en/press_service/minister_speeches/1785002", "20211209120000",
     "https://www.mid.ru/en/press_service/minister_speeches/1785002", "text/html", "301",
     "3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ", "376"],
    ["ru,mid)/en/press_service/minister_speeches/1785002", "20211210120000",
     "https://mid.ru/en/press_service/minister_speeches/1785002/", "warc/revisit", "-",
     "B742VRALRG4UKVJZNJNFJUM7D4NT22FL", "580"],
]).encode()

# pywb (Common Crawl's index server, any pywb): JSON lines, its own names, the WARC record's place.
PYWB = b"\n".join(json.dumps(row).encode() for row in [
    {"urlkey": "ru,mid)/ru/press_service/minister_speeches/1785002", "timestamp": "20211208120000",
     "url": "https://mid.ru/ru/press_service/minister_speeches/1785002/", "mime": "text/html", "status": "200",
     "digest": "GNF7PHNUEBXMMSCLANVYM7NBQTXYJAMN", "length": "587", "offset": "18422",
     "filename": "crawl-data/CC-MAIN-2021-49/segments/1/warc/CC-MAIN-1.warc.gz"},
    {"urlkey": "ru,mid)/en/press_service/minister_speeches/1785099", "timestamp": "20211207120000",
     "url": "https://mid.ru/en/press_service/minister_speeches/1785099/", "mime": "text/html", "status": "404",
     "digest": "BFFXMO2M7TALAXS5AQCYDTKRHQ6KBADH", "length": "363", "offset": "9825", "filename": "a.warc.gz"},
]) + b"\n"


def test_the_internet_archives_array_of_arrays_is_read_by_its_header():
    captures = parse_cdx(IA)
    assert [c.timestamp for c in captures] == ["20211208120000", "20211209120000", "20211210120000"]
    first = captures[0]
    assert (first.url, first.status, first.mime, first.digest) == (
        "https://mid.ru/en/press_service/minister_speeches/1785002/", "200", "text/html",
        "B742VRALRG4UKVJZNJNFJUM7D4NT22FL")
    assert first.filename is None and first.offset is None and first.length == 5939
    assert first.captured_at == datetime(2021, 12, 8, 12, 0, tzinfo=timezone.utc)
    assert captures[1].status == "301" and captures[2].status == "-" and captures[2].mime == "warc/revisit"


def test_pywb_json_lines_give_the_warc_records_place():
    captures = parse_cdx(PYWB)
    assert len(captures) == 2
    cc = captures[0]
    assert cc.filename == "crawl-data/CC-MAIN-2021-49/segments/1/warc/CC-MAIN-1.warc.gz"
    assert (cc.offset, cc.length, cc.status, cc.is_html) == (18422, 587, "200", True)
    assert captures[1].status == "404"


def test_empty_answers_are_no_captures_and_junk_is_an_error():
    assert parse_cdx(b"") == [] and parse_cdx(b"[]") == [] and parse_cdx(b"\n") == []
    with pytest.raises(ValueError):
        parse_cdx(b"<html>Too many requests</html>")
    with pytest.raises(ValueError):
        parse_cdx(b'{"timestamp": "20211208120000"}')  # no URL


def test_replay_addresses_round_trip():
    prefix = "http://127.0.0.1:8080/mfa/"
    address = replay_url(prefix, "20211208120000", "https://mid.ru/en/press_service/minister_speeches/1785002/")
    assert address == "http://127.0.0.1:8080/mfa/20211208120000id_/https://mid.ru/en/press_service/minister_speeches/1785002/"
    assert split_replay_url(prefix, address) == ("20211208120000",
                                                 "https://mid.ru/en/press_service/minister_speeches/1785002/")
    assert split_replay_url("https://web.archive.org/web", "https://web.archive.org/web/2021/https://mid.ru/") == (
        "2021", "https://mid.ru/")
    assert split_replay_url(prefix, "https://mid.ru/en/") is None


def test_a_capture_address_names_the_archive_time_and_url_and_reads_back():
    from pipeline.crawl.captures import Archive, archive_of
    from pipeline.settings import Settings
    from pipeline.sources.cdx import Capture

    settings = Settings(wayback_replay_url="http://127.0.0.1:8080/mfa/", commoncrawl_data_url="http://127.0.0.1:8081/")
    url = "https://mid.ru/en/foreign_policy/news/1785002/?lang=en&x=1"
    wayback = Archive("wayback", "http://127.0.0.1:8080/mfa/cdx", replay_url=settings.wayback_replay_url)
    cc = Archive("commoncrawl", "http://127.0.0.1:8080/mfa/cdx", data_url=settings.commoncrawl_data_url)
    record = Capture(url, "20211208120000", "200", "text/html", "", filename="crawl-data/a.warc.gz",
                     offset=1234, length=567)
    for archive in (wayback, cc):
        address = archive.address(record)
        assert "20211208120000" in address and address.endswith(url)
        back = archive.capture_at(address)
        assert (back.url, back.timestamp) == (url, "20211208120000")
        assert archive_of(address, settings).name == archive.name
    assert (cc.capture_at(cc.address(record)).filename, cc.capture_at(cc.address(record)).offset) == (
        "crawl-data/a.warc.gz", 1234)
    assert archive_of("https://mid.ru/en/foreign_policy/news/1785002/", settings) is None
