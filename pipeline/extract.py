"""Stage extract: a raw Page (HTML or a plain-text dump) -> a validated Transcript.

Reads ``Page.content`` (bytes), ``Page.url`` and ``Page.hints`` (what a listing
said: title, date, section, language) and the site profile. Steps: decode
(decode.py), read the layout's structure (html.py-like part below: selectors from
the profile, or a generic extractor for unknown layouts), clean the lines
(clean.py), then dates, place, language and turns (parse.py), and validate
(records.validate_record). Raises DropPage when a page holds no transcript and
RecordRejected when a record is incomplete, each with a one-line reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .clean import Head, clean_lines, compiled, read_head, split_lines
from .decode import decode_page
from .errors import DropPage
from .parse import (
    combine,
    detect_language,
    language_from_url,
    parse_date,
    parse_datetime_loose,
    parse_time,
    split_turns,
    title_tail,
)
from .profile import SiteProfile, get_profile
from .records import Page, Transcript, validate_record


@dataclass
class RawFields:
    """What the structure layer found, before cleaning and parsing."""

    lines: list[str]
    title: str | None = None
    date_text: str | None = None
    doc_number: str | None = None
    section: str | None = None
    languages: list[str] = field(default_factory=list)
    layout: str = "text"


def extract_record(page: Page, profile: SiteProfile | None = None) -> Transcript:
    """Turn one page into a Transcript; raise DropPage or RecordRejected with a reason."""
    profile = profile or get_profile()
    rules = profile.extraction
    if len(page.content) > rules.max_bytes:
        raise DropPage(f"input too large: {len(page.content)} bytes > {rules.max_bytes}")
    decoded = decode_page(page.content, page.content_type)
    if decoded.is_html:
        raw = read_html(decoded.text, profile)
    else:
        raw = RawFields(lines=split_lines(decoded.text))
    return build_record(raw, page, profile)


def read_html(text: str, profile: SiteProfile) -> RawFields:
    """The structure layer for HTML pages (layouts of the site profile)."""
    raise DropPage("HTML pages are not read yet")


def build_record(raw: RawFields, page: Page, profile: SiteProfile) -> Transcript:
    """Clean the lines, read the metadata and validate the record."""
    rules = profile.extraction
    cr = compiled(rules)
    head, rest = read_head(raw.lines, rules, title_known=raw.title)
    paragraphs = clean_lines(rest, rules)
    if not paragraphs:
        raise DropPage("no speech text found")
    title = raw.title or head.title or page.hints.get("title")
    if title is None:
        title = ""
    place, title_day = title_tail(title, cr)
    language = (page.hints.get("language") or language_from_url(page.url, rules)
                or detect_language("\n".join(paragraphs[:20]), rules, profile.site.default_language))
    turns, speakers = split_turns(paragraphs, cr, title, language)
    fields = {
        "title": title,
        "published_at": _published_at(raw, head, title_day, page, cr),
        "location": place,
        "language": language,
        "languages": raw.languages or head.languages,
        "doc_number": raw.doc_number or head.doc_number,
        "section": raw.section or head.section or page.hints.get("section"),
        "url": page.url,
        "body": "\n\n".join(paragraphs),
        "turns": [t.model_dump() for t in turns],
        "speakers": speakers,
    }
    return validate_record(fields, source=page.source)


def _published_at(raw: RawFields, head: Head, title_day, page: Page, cr):
    """The page's own date line first, then the title's date, then the listing's hint;
    the time from the date line or a time-only line."""
    at = parse_time(head.time_text)
    for text in (raw.date_text, head.date_text):
        if text:
            stamp = parse_datetime_loose(text, cr)
            if stamp is not None:
                day_time = parse_time(text) or at
                return combine(stamp.date(), day_time) if day_time or stamp.time().hour == 0 and stamp.time().minute == 0 else stamp
    if title_day is not None:
        return combine(title_day, at)
    hint = page.hints.get("date") or page.hints.get("published_at")
    if hint:
        stamp = parse_datetime_loose(hint, cr)
        if stamp is not None:
            return combine(stamp.date(), at) if at else stamp
    return None


__all__ = ["extract_record", "build_record", "RawFields", "parse_date"]
