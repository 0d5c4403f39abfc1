"""Stage extract: a raw Page (HTML or a plain-text dump) -> a validated Transcript.

Reads ``Page.content`` (bytes), ``Page.url`` and ``Page.hints`` (what a listing
said: title, date, section, language) and the site profile. Steps: the page's one
parse (document.py: decoded text, tree, layout; a caller that parsed it already, the
crawl's blocked check, hands it in), read the structure of HTML (below: the profile's
layouts and their selectors, or trafilatura for a layout the profile does not know),
clean the lines (clean.py), then dates, place, language and turns (metadata.py), and validate
(records.validate_record). Raises DropPage when a page holds no transcript and
RecordRejected when a record is incomplete, each with a one-line reason.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import urljoin

from cssselect import SelectorError
from cssselect.parser import parse as cssselect_parse
from lxml import etree
from lxml.html import HtmlMixin
from lxml.cssselect import LxmlHTMLTranslator

from pipeline.extract.clean import (
    Head,
    clean_lines,
    drop_invisible,
    is_prose,
    read_head,
    scan_head_lines,
    split_lines,
    take_translation_note,
)
from pipeline.extract.document import (
    Document,
    _ancestral,
    _css,
    _needs,
    _present,
    _Query,
    _select,
    parse_document,
)
from pipeline.model.errors import DropPage, RecordRejected
from pipeline.extract.metadata import (
    combine,
    detect_language,
    doc_number_day,
    language_from_url,
    parse_datetime_loose,
    parse_time,
    split_topics,
    split_turns,
    title_tail,
    without_site_name,
)
from pipeline.profile import CrawlSection, SiteProfile
from pipeline.model.records import Page, Transcript, validate_record
from pipeline.extract.rules import compiled


@dataclass
class RawFields:
    """What the structure layer found, before cleaning and parsing."""

    lines: list[str]
    title: str | None = None
    date_text: str | None = None
    doc_number: str | None = None
    section: str | None = None
    languages: list[str] = field(default_factory=list)
    page_language: str | None = None
    # The document's <title>, site name taken off: used when nothing better names the page.
    fallback_title: str | None = None
    layout: str = "text"
    # The text of the topic headings the layout marks inside the text (``headings`` selectors).
    headings: list[str] = field(default_factory=list)
    # Lines of the article head outside the text container (date, time, number, notes).
    head_lines: list[str] = field(default_factory=list)


def extract_record(page: Page, profile: SiteProfile, document: Document | None = None) -> Transcript:
    """Turn one page into a Transcript; raise DropPage or RecordRejected with a reason.
    ``document``: the page as the caller parsed it already (``parse_document`` of its content),
    which extraction reads last (it drops boilerplate out of the tree)."""
    document = document or parse_document(page.content, page.content_type, profile)
    decoded = document.decoded
    if decoded.is_html:
        raw = read_html(document)
    else:
        raw = RawFields(lines=split_lines(decoded.text, gaps=True))
    return build_record(raw, page, profile)


# --- the structure layer for HTML ------------------------------------------------

# Tags whose content starts a new line: a scraper's "one block per line".
_BLOCK_TAGS = frozenset("""address article aside blockquote dd div dl dt fieldset figcaption figure footer
h1 h2 h3 h4 h5 h6 header hr li main nav ol p pre section table tbody td tfoot th thead tr ul""".split())
_LINE_TAGS = _BLOCK_TAGS | {"br"}  # tags whose start breaks the line
_SPACE_RUN = re.compile(r"[ \t\r\n\f\v]+")  # HTML whitespace; no-break spaces are text


def _collapse_spaces(text: str) -> str:
    """A text node as a line reads it: HTML whitespace runs -> one space, invisible characters
    out (``drop_invisible``). Most text nodes have no run to collapse, and a substring test is
    ~20x cheaper than letting the regex scan a long Cyrillic paragraph."""
    text = drop_invisible(text)
    if "  " in text or "\n" in text or "\t" in text or "\r" in text or "\f" in text or "\v" in text:
        return _SPACE_RUN.sub(" ", text)
    return text



_string_value = etree.XPath("string()", smart_strings=False)  # all text below an element, in order


def _element_text(element) -> str:
    """The text of one element on one line (attributes of meta/time first); a <br> or a
    block inside it is a space ("14 March 2024<br>13:20" is not "202413:20")."""
    for attribute in ("content", "datetime"):
        value = element.get(attribute)
        if value:
            return value.strip()
    if len(element):
        return " ".join(block_lines(element))
    return _collapse_spaces(_string_value(element)).strip()


def _first_text(query: _Query, selectors: list[str]) -> str | None:
    for selector in selectors:
        for element in query(selector):
            text = _element_text(element)
            if text:
                return text
    return None


def block_lines(element, skip: frozenset = frozenset(), stop=None) -> list[str]:
    """The text of an element as a naive scraper sees it: one line per block, <br> breaks.
    Elements in ``skip`` are left out with their subtree (their tails stay); reading ends
    where ``stop`` starts."""
    # The loop runs once per start and end of every node of the text container: names
    # are bound locally and each attribute read once (measured: a tenth off the walk).
    parts: list[str] = []
    append = parts.append
    collapse = _collapse_spaces
    walker = etree.iterwalk(element, events=("start", "end"))
    for event, node in walker:
        tag = node.tag  # a function (etree.Comment, ...) for comments and processing instructions
        if event == "start":
            if tag.__class__ is not str:
                continue  # comments and processing instructions carry no page text
            if node is stop:
                break
            if skip and node in skip:
                walker.skip_subtree()  # no "end" event comes for it
                append("\n")
                tail = node.tail
                if tail:
                    append(collapse(tail))
                continue
            if tag in _LINE_TAGS:
                append("\n")
            text = node.text
            if text:
                append(collapse(text))
        else:
            if tag in _BLOCK_TAGS:
                append("\n")
            tail = node.tail
            if tail and node is not element:
                append(collapse(tail))
    return split_lines("".join(parts))


def _remove(root, selectors: list[str]) -> None:
    present = None
    for selector in selectors:
        select = _css(selector)
        needs = _needs(selector)
        if needs is not None:
            # Dropping only takes elements away, so what was absent at the start stays absent.
            present = present or _present(root)
            if not (needs[0] <= present[0] and needs[1] <= present[1]):
                continue  # cannot match: spare the XPath walk over the subtree
        for element in select(root):
            if element.getparent() is not None:
                # lxml.html's drop_tree, on the plain elements parse_html gives: it keeps the
                # tail text, which belongs to the parent, and uses nothing of lxml.html's classes
                HtmlMixin.drop_tree(element)



_QUERY_LANG = re.compile(r"[?&]lang=([a-z]{2})\b")


class _Chrome:
    """Whether an element lies in the site chrome (the site's language switcher, menus).

    The chrome selectors without combinators are tested on the element and its ancestors
    together (one ``ancestor-or-self`` XPath over a few nodes: ``_within``); only other
    selectors need the set of all chrome elements, each a walk of the whole page, made once
    when first asked."""

    def __init__(self, query: _Query, selectors: list[str]):
        self.query = query
        self.test = _within(tuple(s for s in selectors if _ancestral_only(s)))
        self.others = [s for s in selectors if not _ancestral_only(s)]
        self._elements: set | None = None

    def __contains__(self, element) -> bool:
        if self.test is not None and self.test(element):
            return True
        if not self.others:
            return False
        if self._elements is None:
            self._elements = {found for selector in self.others for found in self.query(selector)}
        return element in self._elements or any(parent in self._elements for parent in element.iterancestors())


@lru_cache(maxsize=512)
def _ancestral_only(selector: str) -> bool:
    """One selector without combinators or pseudo-classes (tags, classes, ids, attributes)."""
    try:
        parsed = cssselect_parse(selector)
    except SelectorError:
        return False
    return len(parsed) == 1 and parsed[0].pseudo_element is None and _ancestral(parsed[0].parsed_tree, combined=False)


@lru_cache(maxsize=128)
def _within(selectors: tuple[str, ...]):
    """For selectors ``_ancestral_only``: one XPath, true when the element or one of its
    ancestors matches any of them (the translations CSSSelector uses, as one union)."""
    if not selectors:
        return None
    translator = LxmlHTMLTranslator()
    paths = " | ".join(translator.css_to_xpath(s, prefix="ancestor-or-self::") for s in selectors)
    return etree.XPath(f"boolean({paths})")


def _language_links(query: _Query, selectors: list[str], rules, chrome_selectors: list[str],
                    head=None) -> list[tuple[str, str | None]]:
    """The article's versions, in page order, each with the link to it (None when the entry
    is no single link); elements of the site chrome never count.

    Searched in the article head when the layout names one (a fraction of a page whose
    menus are large), ``<link>`` alternates in the document's <head>."""
    links: list[tuple[str, str | None]] = []
    chrome = _Chrome(query, chrome_selectors)
    for selector in selectors:
        scope = head if head is not None and not selector.startswith("link") else None
        for element in query(selector, scope):
            if element in chrome:
                continue
            href = (element.get("href") or "").strip() or None
            in_href = _QUERY_LANG.search(href or "")
            value = element.get("hreflang") or (in_href.group(1) if in_href else _element_text(element))
            found = rules.patterns.language_code.findall(value) or [value[:2].lower()]
            for code in found:
                if code.isalpha() and len(code) == 2 and code not in (c for c, _ in links):
                    links.append((code, href if len(found) == 1 else None))
        if links:
            return links
    return links


def _languages(query: _Query, selectors: list[str], rules, chrome_selectors: list[str], head=None) -> list[str]:
    """The codes of the article's versions, in page order (``_language_links``)."""
    return [code for code, _ in _language_links(query, selectors, rules, chrome_selectors, head)]


def language_links(document: Document, url: str) -> dict[str, str]:
    """The article's versions that its own language list links to (``?lang=ru`` by the title),
    by language code, resolved against ``url``: the layout's ``languages`` selectors, read as
    the record's ``languages`` field is, never the site-wide switcher. {} for a page no layout
    detects, or whose list links nowhere. Reads the document without changing it."""
    if not document.decoded.is_html:
        return {}
    layout = document.layout
    if layout is None:
        return {}
    query = document.query
    heads = _select(query, layout.head)
    links = _language_links(query, layout.languages, document.profile.extraction, layout.chrome,
                            heads[0] if heads else None)
    return {code: urljoin(url, href) for code, href in links if href and not href.startswith("#")}



def read_html(document: Document) -> RawFields:
    """The structure layer for HTML pages: the profile's layouts, else a generic extractor."""
    article = document.article
    if article.layout is not None:
        raw = _read_layout(article.root, article.query, article.layout, document.profile)
        if raw is not None:
            return raw
        if article.cut:
            # The generic readers below read the whole page: read it as the layout did, so it is
            # the tree they always had (the layout's drops done), then fall back as before.
            root = document.root
            raw = _read_layout(root, _Query(root), article.layout, document.profile)
            if raw is not None:
                return raw
    text, root = document.decoded.text, document.root
    fragment = _paragraph_fragment(text, root)
    if fragment is not None:
        return RawFields(lines=fragment)
    return read_unknown_layout(text, root, document.profile)


def _read_layout(root, query: _Query, layout, profile: SiteProfile) -> RawFields | None:
    """The fields of a page ``layout`` detects, or None when its text container is missing or
    holds too little text (the layout's drops are then done all the same)."""
    rules = profile.extraction
    containers = _select(query, layout.text)
    if not containers:
        return None
    container = containers[0]
    _remove(container, rules.drop_always + layout.drop)
    query.dropped()
    lines = block_lines(container)
    headings = [line for selector in layout.headings for element in query(selector, container)
                for line in block_lines(element)]
    if sum(len(line) for line in lines) < rules.min_text_chars:
        return None
    heads = _select(query, layout.head)
    head = heads[0] if heads else None
    head_lines = _head_lines(head, container)
    date_text = _first_text(query, layout.date) or _scoped_date(
        query, layout.date_scope, profile, _Read(container, lines, head, head_lines))
    time_text = _first_text(query, layout.time)
    if date_text and time_text:
        date_text = f"{date_text} {time_text}"
    return RawFields(
        lines=lines,
        title=_first_text(query, layout.title),
        date_text=date_text,
        doc_number=_first_text(query, layout.doc_number),
        section=_first_text(query, layout.section),
        languages=_languages(query, layout.languages, rules, layout.chrome, head),
        head_lines=head_lines,
        page_language=_page_language(root),
        fallback_title=_document_title(root, rules),
        layout=layout.name,
        headings=headings,
    )


# A page, not a fragment: its document structure, or anything but paragraphs of text.
_DOCUMENT_TAGS = re.compile(r"<\s*(?:html|head|body|title|meta|script)\b", re.IGNORECASE)
_FRAGMENT_TAGS = frozenset({"p", "br"})


def _paragraph_fragment(text: str, root) -> list[str] | None:
    """The lines of a dump that is nothing but ``<p>`` elements (a scraper that saved a page's
    ``<p>`` texts as HTML), read as a text dump is: no document structure to read a layout
    from, and no title to refuse it for. None for anything else."""
    if _DOCUMENT_TAGS.search(text):
        return None
    body = root.find("body")
    if body is None or len(body) == 0 or (body.text or "").strip():
        return None
    # inline markup inside a paragraph (<b>Question:</b>, <a>) is text; only the top level is looked at
    if any(not isinstance(el.tag, str) or el.tag not in _FRAGMENT_TAGS or (el.tail or "").strip() for el in body):
        return None
    return block_lines(body)


def _head_lines(head, container) -> list[str]:
    """The lines of the article head (the first ``head`` selector that matches) up to the
    text container: where an unlisted date, time or number sits."""
    if head is None:
        return []
    # The chrome inside the head (breadcrumbs) is read too: its lines hold no date, number,
    # languages line or note, and looking it up costs more than reading it.
    return block_lines(head, stop=container)


@dataclass
class _Read:
    """Lines already read from the page: the text container's and the article head's
    (``head_lines``: up to the container)."""

    container: object
    lines: list[str]
    head: object
    head_lines: list[str]


def _scoped_date(query: _Query, scopes: list[str], profile: SiteProfile, read: _Read) -> str | None:
    """The first line in ``scopes`` that is wholly a date and time (or a date): "14 March 202413:20"
    comes back as "14 March 2024 13:20" (two inline elements glue date and time together)."""
    patterns = profile.extraction.patterns
    for scope in _select(query, scopes)[:1]:
        for line in _scope_lines(scope, read):
            match = patterns.date_time.fullmatch(line)
            if match:
                return f"{match['date']} {match['time']}"
            if any(p.fullmatch(line) for p in (patterns.date_dmy, patterns.date_mdy, patterns.date_numeric)):
                return line
    return None


def _scope_lines(scope, read: _Read):
    """``block_lines(scope)``, lazily, without reading again what ``read`` holds: when the
    scope is the article head and holds the text container, a block, its lines are the head's
    lines up to the container, then the container's, then the rest (a block starts and ends
    a line, so no line spans a border). The rest is read only when asked for."""
    container = read.container
    if scope is not read.head or container.tag not in _BLOCK_TAGS or not _inside(container, scope):
        yield from block_lines(scope)
        return
    yield from read.head_lines
    yield from read.lines
    yield from block_lines(scope)[len(read.head_lines) + len(read.lines):]


def _inside(element, ancestor) -> bool:
    return any(parent is ancestor for parent in element.iterancestors())


def _document_title(root, rules) -> str | None:
    element = root.find(".//title")
    if element is None:
        return None
    title = _element_text(element)
    return without_site_name(title, compiled(rules)) or None


def _page_language(root) -> str | None:
    value = (root.get("lang") or "").strip().lower()
    return value[:2] if len(value) >= 2 and value[:2].isalpha() else None


def read_unknown_layout(text: str, root, profile: SiteProfile) -> RawFields:
    """A page no layout of the profile knows: trafilatura finds the main text and metadata."""
    import trafilatura  # imported on demand: costly, and only unknown layouts need it

    heading = root.find(".//h1")
    title = _element_text(heading) if heading is not None else None
    date_text = _first_text(_Query(root), ["time[datetime]", 'meta[property="article:published_time"]'])
    # trafilatura's metadata (a third of its time) is only asked for when the page's own <h1>
    # or date element is missing: the main text it finds is the same with or without it.
    document = trafilatura.bare_extraction(text, with_metadata=not (title and date_text), favor_recall=True,
                                           include_comments=False, include_tables=True)
    body = getattr(document, "text", None) if document is not None else None
    if not body or len(body.strip()) < profile.extraction.min_text_chars:
        raise DropPage("no main text found in an HTML page of unknown layout")
    return RawFields(
        lines=split_lines(body),
        title=title or getattr(document, "title", None),
        date_text=date_text or getattr(document, "date", None),
        page_language=_page_language(root),
        fallback_title=_document_title(root, profile.extraction),
        layout="generic",
    )


def _language(raw: RawFields, page: Page, paragraphs: list[str], profile: SiteProfile) -> str:
    """The text's language: the ``?lang=`` the URL asks for, the page's ``<html lang>``, the URL's
    ``/xx/`` prefix, the text. When ``?lang=`` and ``<html lang>`` disagree, the text decides
    (its Cyrillic and Latin letter shares, then stop words): the template's attribute may be
    wrong (/pt/...?lang=en in a page saying pt) and so may the query (/en/...?lang=ru answered
    in English)."""
    rules = profile.extraction
    asked = language_from_url(page.url, rules, asked_only=True)

    def text() -> str:
        return detect_language("\n".join(paragraphs[:20]), rules, profile.site.default_language)

    if asked and raw.page_language and asked != raw.page_language:
        return text()
    return asked or raw.page_language or language_from_url(page.url, rules) or text()


def build_record(raw: RawFields, page: Page, profile: SiteProfile) -> Transcript:
    """Clean the lines, read the metadata and validate the record."""
    rules = profile.extraction
    cr = compiled(rules)
    head, rest = read_head(raw.lines, rules, title_known=raw.title, title_in_text=raw.layout == "text")
    note, rest = take_translation_note(rest, cr)
    around = scan_head_lines(raw.head_lines, cr)
    note = note or around.translation_note
    paragraphs, topics = split_topics(clean_lines(rest, rules), raw.headings, cr)
    if not paragraphs:
        raise DropPage("no speech text found")
    if not any(is_prose(paragraph, rules) for paragraph in paragraphs):
        # menus, labels and captions only: a page whose speech was lost, never a record
        raise DropPage(f"no speech paragraph (no sentence of {rules.prose_min_words}+ words "
                       f"among {len(paragraphs)} lines)")
    # A dump's <title> line ends with the site's name. A text dump naming no title (other
    # scrapers save the speech paragraphs only) keeps its speech, untitled: the record flags
    # it (records.NO_TITLE). An HTML page without one is refused: a page whose head, h1 and
    # <title> name nothing is no article (a challenge, an error page).
    title = without_site_name(raw.title or head.title or page.hints.title or raw.fallback_title or "", cr)
    title = title or (None if raw.layout == "text" else "")
    place, title_day = title_tail(title, cr) if title else (None, None)
    language = page.hints.language or _language(raw, page, paragraphs, profile)
    turns, speakers = split_turns(paragraphs, cr, title or "", language, topics, speaker=page.hints.speaker)
    doc_number = _doc_number(raw.doc_number or head.doc_number, cr) or around.doc_number
    # the section the page prints (or the listing named), else the one its URL is under
    by_url = profile.crawl.section_of(page.url)
    section = raw.section or head.section or page.hints.section or (by_url.name if by_url else None)
    fields = {
        "title": title,
        "published_at": _published_at(raw, head, around, title_day, page, cr) or _at_day(
            doc_number_day(doc_number, cr), head, around),
        "location": place,
        "language": language,
        "languages": raw.languages or head.languages or around.languages,
        "doc_number": doc_number,
        "section": section,
        "kind": page.hints.kind or _kind_of(by_url, profile, section),
        "url": page.url,
        "body": "\n\n".join(paragraphs),
        "turns": turns,  # validated Turn instances: pydantic keeps them, no second validation
        "speakers": speakers,
        "speaker_ids": list(dict.fromkeys(t.speaker_id for t in turns if t.speaker_id)),
        "translation_note": note,
        "layout": raw.layout,
    }
    return validate_record(fields, source=page.source)


def _doc_number(text: str | None, cr) -> str | None:
    """The number itself out of what its element holds ("№ 2393-18-11-2019")."""
    if not text or cr.patterns.doc_number_search is None:
        return text
    match = cr.patterns.doc_number_search.search(text)
    return match.group(0) if match else text


def _kind_of(by_url: CrawlSection | None, profile: SiteProfile, printed_section: str | None) -> str | None:
    """The kind of the profile section whose article pattern the URL matches (replays carry no
    hint), else of the section the page names (a text dump's section line, ``Ministers’ speeches``)."""
    section = by_url or profile.crawl.section_named(printed_section)
    return section.kind if section else None


def _published_at(raw: RawFields, head: Head, around: Head, title_day, page: Page, cr):
    """The page's own date first (its date element, the text's head lines, then any line of
    the article head), then the title's date, then the listing's hint; the time from the
    date itself or from a time-only line."""
    at = parse_time(head.time_text) or parse_time(around.time_text)
    own = _first_stamp((raw.date_text, head.date_text, around.date_text), at, cr)
    if own is not None:
        return own
    if title_day is not None:
        return combine(title_day, at)
    return _listed_stamp(page.hints.published, at) or _corpus_stamp(page.hints.date_text, at, cr)


def _corpus_stamp(text: str | None, at: time | None, cr) -> datetime | None:
    """A corpus row's date column, read as a date line of the page; one that holds no date
    refuses the row (a dead letter naming the file and row), never a guessed day."""
    if not text:
        return None
    stamp = _first_stamp((text,), at, cr)
    if stamp is None:
        raise RecordRejected(f"unparseable date {text[:80]!r} in the date column")
    return stamp


def _at_day(day: date | None, head: Head, around: Head) -> datetime | None:
    """The last resort of a page that prints no date: the day of its document number (a
    dump of the speech paragraphs only), at the page's time line if any."""
    if day is None:
        return None
    return combine(day, parse_time(head.time_text) or parse_time(around.time_text))


def _listed_stamp(published: datetime | date | None, at: time | None) -> datetime | None:
    """The listing's date: a datetime is the stamp; a bare day (the listing gave no time)
    takes the page's "23:28" time line, as a date text of the page does in ``_first_stamp``."""
    if isinstance(published, datetime):
        return published
    if isinstance(published, date):
        return combine(published, at)
    return None


def _first_stamp(texts, at, cr):
    """The first text holding a date; one without a time of its own takes the page's time line."""
    for text in filter(None, texts):
        stamp = parse_datetime_loose(text, cr)
        if stamp is not None:
            return combine(stamp.date(), at) if at is not None and parse_time(text) is None else stamp
    return None


__all__ = ["extract_record", "build_record", "language_links", "RawFields"]
