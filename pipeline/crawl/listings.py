"""Source: the site's listing pages and RSS feeds -> article URLs with listing hints.

Reads the ``crawl:`` section of the site profile (layouts with their selectors and
date formats, sections with their listing paths per language and page parameters,
feeds). Listing pages are walked newest first, one page at a time through the
fetcher; each page comes out as a ``ListingBatch`` of ``ListingEntry``s so the
caller (crawler.py) can stop early (known documents) and checkpoint by page number.
A listing page that cannot be fetched, or a feed that cannot be parsed, is a Failure.

Dates are Moscow time: a listing's local stamp is read as Moscow time, an RSS
``pubDate`` (GMT or any offset) is converted to it. A listing that gives only the
day yields a ``date``, not a midnight ``datetime``, so the extract stage still
takes the time from the page itself.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from functools import lru_cache
from datetime import date, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Iterator
from urllib.parse import urlencode, urljoin, urlsplit

from dateparser.date import DateDataParser
from bs4 import BeautifulSoup
from lxml import etree

from pipeline.context import RunContext
from pipeline.model.errors import FetchError
from pipeline.crawl.blocked import raise_if_blocked
from pipeline.crawl.fetch import FEED_TYPES, Fetcher
from pipeline.extract.document import parse_document
from pipeline.profile import CrawlSection, ListingLayout
from pipeline.model.ids import canonical_url
from pipeline.model.records import MOSCOW, Failure, ListingHints

log = logging.getLogger(__name__)

@dataclass(frozen=True)
class ListingEntry:
    """What a listing (or feed) says about one article."""

    url: str
    section: str
    language: str
    layout: str
    title: str | None = None
    # An aware Moscow-time datetime, or a bare date when the listing gives no time.
    published: datetime | date | None = None
    article_id: str | None = None
    listing_url: str | None = None
    kind: str | None = None

    @property
    def key(self) -> str:
        return canonical_url(self.url)

    def hints(self) -> ListingHints:
        """What the listing said, as it travels beside the fetch; the date stays a date or datetime."""
        return ListingHints(section=self.section, language=self.language, layout=self.layout,
                            title=self.title or None, published=self.published or None,
                            article_id=self.article_id or None, listing_url=self.listing_url or None,
                            kind=self.kind or None)


@dataclass
class ListingBatch:
    """One listing page: its number, its URL and its entries (or the failure that ended the walk)."""

    page: int
    url: str
    entries: list[ListingEntry] = field(default_factory=list)
    failure: Failure | None = None
    skipped_out_of_range: int = 0
    skipped_not_transcripts: int = 0
    items: int = 0  # entries the page shows (the layout's ``item``s), articles or not: is the page full?


def listing_page_url(base: str, section: CrawlSection, layout: ListingLayout, language: str, page: int,
                     days: tuple[date, date] | None = None) -> str:
    """A listing page's URL; ``days``: the date-filtered listing of [first, last] (the page number after
    the filter, ``?activeFrom=..&activeTo=..&PAGEN_1=2``, which a ``/*?PAGEN`` robots rule leaves allowed)."""
    listing = section.listings[language]
    url = base + listing.path
    param = listing.page_param or layout.page_param
    params = dict(listing.params)
    if days is not None:
        if layout.date_filter is None:
            raise ValueError(f"layout of section {section.name!r} has no date_filter")
        f = layout.date_filter
        params[f.from_param] = days[0].strftime(f.format)
        params[f.to_param] = days[1].strftime(f.format)
    if page != layout.first_page and param:
        params[param] = str(page)
    return f"{url}?{urlencode(params)}" if params else url


def article_id(url: str, section: CrawlSection) -> str | None:
    match = section.article_pattern.search(urlsplit(url).path)
    if not match:
        return None
    return match.groupdict().get("id") or match.group(0)


_TIME_DIRECTIVES = re.compile(r"%[HIMSpXcT]")


def parse_listing_date(text: str, layout: ListingLayout, language: str) -> datetime | date | None:
    """The layout's strptime formats, then dateparser in the listing's language.

    A stamp with a time is an aware Moscow datetime (an explicit offset is converted);
    a day alone is a ``date``.
    """
    text = " ".join(text.split())
    if not text:
        return None
    for fmt in layout.date_formats:
        try:
            parsed = datetime.strptime(text, fmt)
        except ValueError:
            continue
        return _moscow(parsed) if _TIME_DIRECTIVES.search(fmt) else parsed.date()
    found = _date_parser(language).get_date_data(text)
    if found.date_obj is None:
        return None
    # Period "day": the text had no time (dateparser filled in midnight).
    return found.date_obj.date() if found.period == "day" else _moscow(found.date_obj)


@lru_cache(maxsize=8)
def _date_parser(language: str) -> DateDataParser:
    languages = list(dict.fromkeys([language, "en"]))
    return DateDataParser(languages=languages, settings={"DATE_ORDER": "DMY", "RETURN_TIME_AS_PERIOD": True})


def _moscow(stamp: datetime) -> datetime:
    """Naive stamps are the site's Moscow time; aware ones are converted to it."""
    return stamp.replace(tzinfo=MOSCOW) if stamp.tzinfo is None else stamp.astimezone(MOSCOW)


def _day(published: datetime | date) -> date:
    return published.date() if isinstance(published, datetime) else published


def parse_listing(content: bytes, page_url: str, section: CrawlSection, layout_name: str,
                  layout: ListingLayout, language: str) -> list[ListingEntry]:
    """The article entries of one listing page, in page order (newest first on the site);
    entries the section's ``skip_titles`` name (accreditation notices) are left out."""
    return [e for e in parse_listing_all(content, page_url, section, layout_name, layout, language)
            if not section.skips(e.title)]


def parse_listing_all(content: bytes, page_url: str, section: CrawlSection, layout_name: str,
                      layout: ListingLayout, language: str) -> list[ListingEntry]:
    """Every article entry of one listing page, transcripts or not."""
    return _parse_items(content, page_url, section, layout_name, layout, language)[0]


def _parse_items(content: bytes, page_url: str, section: CrawlSection, layout_name: str,
                 layout: ListingLayout, language: str) -> tuple[list[ListingEntry], int]:
    """The article entries of a page and how many items it shows (a full page has more after it)."""
    soup = BeautifulSoup(content, "lxml")
    entries = []
    items = soup.select(layout.item)
    for item in items:
        link = item if item.name == "a" and item.get("href") else item.select_one(layout.link)
        if link is None or not link.get("href"):
            continue
        url = urljoin(page_url, link["href"].strip())
        ident = article_id(url, section)
        if ident is None:  # a link to something that is not an article of this section
            continue
        title_el = item.select_one(layout.title) if layout.title else link
        date_el = item.select_one(layout.date) if layout.date else None
        time_el = item.select_one(layout.time) if layout.time else None
        stamp = " ".join(el.get_text(" ") for el in (date_el, time_el) if el is not None)
        entries.append(ListingEntry(
            url=url, section=section.name, language=language, layout=layout_name,
            title=" ".join(title_el.get_text(" ").split()) if title_el else None,
            published=parse_listing_date(stamp, layout, language) if stamp.strip() else None,
            article_id=ident, listing_url=page_url, kind=section.kind,
        ))
    return entries, len(items)


def in_range(published: datetime | date | None, since: date | None, until: date | None) -> bool:
    """Entries without a date are kept: the extract stage finds the date on the page."""
    if published is None:
        return True
    day = _day(published)
    return (since is None or day >= since) and (until is None or day <= until)


def iter_listing(fetcher: Fetcher, ctx: RunContext, section: CrawlSection, language: str, *,
                 since: date | None = None, until: date | None = None, start_page: int | None = None,
                 max_pages: int | None = None, days: tuple[date, date] | None = None,
                 page_size: int | None = None) -> Iterator[ListingBatch]:
    """Walk one section's listing in one language, page by page, newest first.

    ``days``: the date-filtered listing of those days only (a backfill window). ``page_size``:
    the items a full page shows; a page with fewer is the last (no request for the empty page
    after it); None: walk to an empty page. Ends at an empty or not-full page, at a page whose entries are all older than ``since``, after ``max_pages``, before
    a page robots.txt disallows (paging is often forbidden: not a failure), or at a page that
    cannot be fetched or is blocked (a batch with a failure: the walk is not complete).
    """
    profile = ctx.profile
    layout = profile.crawl.layouts[section.layout]
    base = ctx.base_urls[layout.site]
    page = start_page or layout.first_page
    limit = max_pages or ctx.settings.crawl_max_listing_pages
    seen: set[str] = set()
    for _ in range(limit):
        url = listing_page_url(base, section, layout, language, page, days)
        if page != layout.first_page and not fetcher.robots_allows(url):
            log.info("%s/%s: robots.txt forbids paging (%s); the walk ends here", section.name, language, url)
            return
        try:
            result = fetcher.get(url)
            raise_if_blocked(parse_document(result.content, result.content_type, profile), "listing", url, listing=layout)
        except FetchError as exc:
            yield ListingBatch(page, url, failure=Failure(source=url, url=url, stage="source", kind=exc.kind,
                                                         reason=f"listing page: {exc.reason}"))
            return
        parsed, items = _parse_items(result.content, url, section, section.layout, layout, language)
        every = [e for e in parsed if e.key not in seen]
        if not every:
            return
        seen.update(e.key for e in every)
        entries = [e for e in every if not section.skips(e.title)]
        kept = [e for e in entries if in_range(e.published, since, until)]
        yield ListingBatch(page, url, kept, skipped_out_of_range=len(entries) - len(kept),
                           skipped_not_transcripts=len(every) - len(entries), items=items)
        dated = [e.published for e in every if e.published is not None]
        if since is not None and dated and all(_day(d) < since for d in dated):
            return
        if page_size is not None and items < page_size:
            return
        page += 1


def window_before(end: date, since: date, span: int) -> tuple[date, date]:
    """The date window of up to ``span`` days ending on ``end``, not before ``since`` (the
    adaptive backfill's next request, crawler.py)."""
    return max(since, end - timedelta(days=span - 1)), end


def oldest_day(entries: list[ListingEntry]) -> date | None:
    """The oldest day a listing page reached (None: no entry has a date)."""
    days = [_day(e.published) for e in entries if e.published is not None]
    return min(days) if days else None


class FeedError(ValueError):
    """A feed body that is not XML at all (empty, truncated to nothing, an HTML error page...)."""


def parse_feed(content: bytes, feed_url: str, language: str, sections: list[CrawlSection]) -> list[ListingEntry]:
    """RSS 2.0 items whose link is an article of one of ``sections``; FeedError when the body is no XML."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, recover=True)
    try:
        root = etree.fromstring(content, parser=parser)
    except etree.XMLSyntaxError as exc:  # recover=True still gives up on an empty or hopeless body
        raise FeedError(f"not an RSS document: {exc}") from exc
    if root is None:
        raise FeedError("not an RSS document: no root element")
    entries = []
    for item in root.iter("item"):
        link = (item.findtext("link") or item.findtext("guid") or "").strip()
        if not link:
            continue
        url = urljoin(feed_url, link)
        for section in sections:
            ident = article_id(url, section)
            if ident is None:
                continue
            published = _rss_date(item.findtext("pubDate"))
            title = (item.findtext("title") or "").strip() or None
            if not section.skips(title):
                entries.append(ListingEntry(url=url, section=section.name, language=language,
                                            layout=section.layout, title=title, published=published,
                                            article_id=ident, listing_url=feed_url, kind=section.kind))
            break
    return entries


def _rss_date(text: str | None) -> datetime | None:
    """An RFC 822 ``pubDate`` in Moscow time ("Thu, 09 Dec 2021 07:00:00 GMT" -> 10:00 MSK)."""
    if not text or not text.strip():
        return None
    try:
        return _moscow(parsedate_to_datetime(text.strip()))
    except (TypeError, ValueError):
        return None


def iter_feeds(fetcher: Fetcher, ctx: RunContext, sections: list[CrawlSection],
               languages: list[str]) -> Iterator[ListingBatch]:
    """One batch per configured feed in the wanted languages (current site only)."""
    profile = ctx.profile
    base = ctx.base_urls["current"]
    for feed in profile.crawl.feeds:
        if feed.language not in languages:
            continue
        url = base + feed.path
        try:
            result = fetcher.get(url, accept=FEED_TYPES)
            raise_if_blocked(parse_document(result.content, result.content_type, profile), "feed", url)
        except FetchError as exc:
            yield ListingBatch(0, url, failure=Failure(source=url, url=url, stage="source", kind=exc.kind,
                                                       reason=f"feed: {exc.reason}"))
            continue
        current = [s for s in sections if profile.crawl.layouts[s.layout].site == "current"]
        try:
            entries = parse_feed(result.content, url, feed.language, current)
        except FeedError as exc:
            yield ListingBatch(0, url, failure=Failure(source=url, url=url, stage="source", reason=f"feed: {exc}"))
            continue
        yield ListingBatch(0, url, entries)
