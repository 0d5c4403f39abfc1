"""Listing hints as one typed model (issue 8, item 4): the listing's date stays a date or a
datetime from the listing through the ledger and the WARC to the Page, never a string."""

from __future__ import annotations

import json
import logging
from datetime import date, datetime
from io import BytesIO

from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from pipeline.crawl.fetch import FetchResult
from pipeline.crawl.listings import ListingEntry
from pipeline.crawl.state import LedgerDoc
from pipeline.crawl.warcwriter import WarcStore
from pipeline.extract.extractor import extract_record
from pipeline.context import get_profile
from pipeline.model.records import MOSCOW, ListingHints, Page
from pipeline.sources.warc import HINTS_HEADER, iter_warc

URL = "https://mid.ru/en/press_service/minister_speeches/1785001/"
TEXT = ("Foreign Minister Sergey Lavrov's remarks at a news conference\n23:28\n"
        "Sergey Lavrov: Ladies and gentlemen, good afternoon. We have held talks today and discussed many "
        "questions of bilateral relations and the international agenda in great detail.\n\n"
        "Question: What about the situation in the region? Could you comment on the latest developments?\n\n"
        "Sergey Lavrov: We are ready for talks with everyone who is ready for them on an equal basis.\n")


def _result(body: bytes = TEXT.encode()) -> FetchResult:
    return FetchResult(url=URL, status=200, reason="OK", http_version="HTTP/1.1",
                       headers=[("Content-Type", "text/plain; charset=utf-8")],
                       request_headers=[("Host", "mid.ru")], content=body, raw_body=body)


def _through_warc(tmp_path, hints: ListingHints | None) -> Page:
    with WarcStore(tmp_path) as store:
        store.record(_result(), hints)
    (page,) = list(iter_warc(store.files, profile=get_profile()))
    assert isinstance(page, Page)
    return page


def _through_ledger(hints: ListingHints) -> ListingHints:
    doc = LedgerDoc(key="k", url=URL, section="minister_speeches", language="en", hints=hints)
    stored = json.loads(json.dumps(doc.model_dump(mode="json")))  # what Elasticsearch keeps and gives back
    return LedgerDoc.model_validate(stored).hints


def test_a_day_only_listing_date_stays_a_date_all_the_way_to_the_page(tmp_path):
    entry = ListingEntry(url=URL, section="minister_speeches", language="en", layout="archive",
                         title="Remarks", published=date(2021, 12, 9), article_id="1785001")
    hints = entry.hints()
    assert isinstance(hints, ListingHints) and type(hints.published) is date
    listed = _through_ledger(hints)
    assert listed == hints and type(listed.published) is date
    page = _through_warc(tmp_path, listed)
    assert page.hints == hints and type(page.hints.published) is date
    # The day from the listing, the time from the page's own "23:28" line.
    assert extract_record(page, get_profile()).published_at == datetime(2021, 12, 9, 23, 28, tzinfo=MOSCOW)


def test_a_listing_datetime_stays_a_datetime_through_the_warc_and_is_the_stamp(tmp_path):
    stamp = datetime(2021, 12, 10, 1, 30, 15, tzinfo=MOSCOW)
    hints = ListingEntry(url=URL, section="minister_speeches", language="en", layout="current",
                         published=stamp).hints()
    listed = _through_ledger(hints)
    assert type(listed.published) is datetime and listed.published == stamp
    page = _through_warc(tmp_path, listed)
    assert type(page.hints.published) is datetime and page.hints.published == stamp
    assert page.hints.published.utcoffset() == stamp.utcoffset()
    assert extract_record(page, get_profile()).published_at == stamp  # the page's time line does not override it


def test_the_header_is_the_models_json_without_empty_fields(tmp_path):
    hints = ListingHints(section="minister_speeches", title="Заявление", published=date(2021, 12, 9))
    with WarcStore(tmp_path) as store:
        store.record(_result(), hints)
        store.record(_result(), None)
        store.record(_result(), ListingHints())
    headers = []
    for path in store.files:
        with path.open("rb") as fh:
            headers += [r.rec_headers.get_header(HINTS_HEADER) for r in ArchiveIterator(fh) if r.rec_type == "response"]
    assert headers[1:] == [None, None], "no hints, no header"
    assert headers[0].isascii()
    assert json.loads(headers[0]) == json.loads(hints.model_dump_json(exclude_none=True)) == {
        "section": "minister_speeches", "title": "Заявление", "published": "2021-12-09"}


def _old_warc(tmp_path, header: str | None):
    path = tmp_path / "old.warc.gz"
    with path.open("wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        http = StatusAndHeaders("200 OK", [("Content-Type", "text/plain; charset=utf-8")], protocol="HTTP/1.1")
        extra = {"WARC-Date": "2021-12-10T08:00:00Z"}
        if header is not None:
            extra[HINTS_HEADER] = header
        writer.write_record(writer.create_warc_record(URL, "response", payload=BytesIO(TEXT.encode()),
                                                      http_headers=http, warc_headers_dict=extra))
    (page,) = list(iter_warc([path], profile=get_profile()))
    return page


def test_an_old_warc_with_the_string_header_still_reads(tmp_path):
    old = json.dumps({"date": "2021-12-09", "id": "1785001", "language": "en", "layout": "archive",
                      "section": "minister_speeches", "title": "Remarks"}, sort_keys=True)
    page = _old_warc(tmp_path, old)
    assert page.hints == ListingHints(published=date(2021, 12, 9), article_id="1785001", language="en",
                                      layout="archive", section="minister_speeches", title="Remarks")
    assert type(page.hints.published) is date
    stamped = _old_warc(tmp_path, json.dumps({"date": "2021-12-10T01:30:00+03:00", "kind": "speech"}))
    assert stamped.hints.published == datetime(2021, 12, 10, 1, 30, tzinfo=MOSCOW)
    assert stamped.hints.kind == "speech"


def test_an_old_ledger_entry_with_string_hints_still_reads():
    doc = LedgerDoc.model_validate({"key": "k", "url": URL, "section": "s", "language": "en",
                                    "hints": {"section": "s", "language": "en", "layout": "current",
                                              "date": "2021-12-09", "id": "17", "listing_url": "https://mid.ru/l"}})
    assert doc.hints == ListingHints(section="s", language="en", layout="current", published=date(2021, 12, 9),
                                     article_id="17", listing_url="https://mid.ru/l")


def test_a_header_that_does_not_validate_is_ignored_with_a_warning(tmp_path, caplog):
    for header in ('{"published": "not a date"}', "not json", "[1, 2]", '{"title": 5}'):
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="pipeline.sources.warc"):
            page = _old_warc(tmp_path, header)
        assert isinstance(page, Page) and page.hints == ListingHints(), header
        assert any(HINTS_HEADER in r.getMessage() for r in caplog.records), header
    assert _old_warc(tmp_path, None).hints == ListingHints()
