"""Stage extract, text layer: lines of a page -> the speech paragraphs and the head metadata.

Reads the lines of a plain-text dump, or the lines of an HTML text container
(what leaks into it). Two jobs:

* ``read_head`` takes the metadata lines off the top (section header, date and
  time, title, languages line, document number) and returns them apart;
* ``clean_lines`` drops boilerplate anywhere in the rest: whole-line phrases of
  the search form, additional materials and photo albums, and listings (embassy
  contacts, country tags) that run until the next line reading like prose.

Every phrase and pattern comes from the site profile (``ExtractionRules``), in
every language the site serves, so no single template language is assumed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pipeline.extract.metadata import parse_date
from pipeline.profile import ExtractionRules
from pipeline.extract.rules import BULLETS, CompiledRules, compiled, normalise_phrase

_SENTENCE_END = (".", "!", "?", "…", "»", "\"", "”", ":")
_LISTING_NAME_MAX_WORDS = 14
_LISTING_BACKTRACK = 3
_DIGITS = "0123456789"


def split_lines(text: str) -> list[str]:
    """Non-empty lines, stripped of surrounding whitespace (no-break spaces too)."""
    return [line.strip() for line in text.splitlines() if line.strip()]


# --- the head -----------------------------------------------------------------

@dataclass
class Head:
    """Metadata lines found at the top of a page."""

    section: str | None = None
    date_text: str | None = None
    time_text: str | None = None
    title: str | None = None
    languages: list[str] = field(default_factory=list)
    doc_number: str | None = None
    translation_note: str | None = None


def language_codes(line: str, rules: ExtractionRules) -> list[str] | None:
    """The 2-letter codes of a `• de-DE1 en-GB1` line, or None when it is not one."""
    if not rules.patterns.languages_line.match(line):
        return None
    codes: list[str] = []
    for code in rules.patterns.language_code.findall(line):
        if code not in codes:
            codes.append(code)
    return codes


def split_date_time(line: str, cr: CompiledRules) -> tuple[str, str] | None:
    """A glued or spaced date-and-time line -> (date text, time text)."""
    match = cr.patterns.date_time.match(line)
    if match and parse_date(match.group("date"), cr, whole=True) is not None:
        return match.group("date").strip(), match.group("time")
    return None


def _head_kind(line: str, cr: CompiledRules) -> tuple[str, object] | None:
    key = normalise_phrase(line)
    if key in cr.sections:
        return "section", line
    glued = split_date_time(line, cr)
    if glued:
        return "date_time", glued
    if cr.patterns.time_only.match(line):
        return "time", line
    if cr.patterns.doc_number.match(line):
        return "doc_number", line
    codes = language_codes(line, cr.rules)
    if codes is not None:
        return "languages", codes
    if len(line) <= 40 and parse_date(line, cr, whole=True) is not None:
        return "date", line
    if key in cr.boilerplate:
        return "boilerplate", line
    return None


def read_head(lines: list[str], rules: ExtractionRules, *, title_known: str | None = None,
              title_in_text: bool = True) -> tuple[Head, list[str]]:
    """Take the metadata lines off the top; the first other line is the title
    (in a text dump, unless it is already known), the next one starts the body."""
    cr = compiled(rules)
    head = Head(title=title_known)
    known = normalise_phrase(title_known) if title_known else None
    index = 0
    while index < len(lines):
        line = lines[index]
        kind = _head_kind(line, cr)
        if kind is None:
            if known is not None and normalise_phrase(line) == known:
                index += 1  # the title repeated inside the text container
                continue
            if head.title is None and title_in_text:
                head.title = line
                index += 1
                continue
            break
        name, value = kind
        if name == "section" and head.section is None:
            head.section = str(value)
        elif name == "date_time":
            head.date_text, head.time_text = value  # type: ignore[misc]
        elif name == "time":
            head.time_text = str(value)
        elif name == "date":
            head.date_text = str(value)
        elif name == "doc_number":
            head.doc_number = str(value)
        elif name == "languages":
            head.languages = list(value)  # type: ignore[arg-type]
        index += 1
    return head, lines[index:]


def scan_head_lines(lines: list[str], cr: CompiledRules) -> Head:
    """What the lines of an article head (outside the text, any order) say: the first date,
    time, document number (by its pattern inside any line), languages line and note."""
    head = Head()
    search = cr.patterns.doc_number_search
    for line in lines:
        glued = split_date_time(line, cr)
        if glued:
            if head.date_text is None:
                head.date_text, head.time_text = glued
            continue
        if cr.patterns.time_only.match(line):
            head.time_text = head.time_text or line
        elif len(line) <= 40 and parse_date(line, cr, whole=True) is not None:
            head.date_text = head.date_text or line
        elif head.translation_note is None and translation_note(line, cr):
            head.translation_note = line
        elif head.doc_number is None and search is not None and (match := search.search(line)):
            head.doc_number = match.group(0)
        elif not head.languages and (codes := language_codes(line, cr.rules)):
            head.languages = codes
    return head


def translation_note(line: str, cr: CompiledRules) -> bool:
    """A note such as "Unofficial translation from Russian" (maybe with a few more words),
    never a sentence of speech that mentions one."""
    key = normalise_phrase(line).strip(" .;()[]*")
    for note in cr.translation_notes:
        if key == note:
            return True
        if key.startswith(note) and len(key[len(note):].split()) <= 3 and not is_prose(line, cr.rules):
            return True
    return False


def take_translation_note(lines: list[str], cr: CompiledRules) -> tuple[str | None, list[str]]:
    """The first translation note among ``lines`` and the lines without any note."""
    if not cr.translation_notes:
        return None, lines
    found: str | None = None
    kept: list[str] = []
    for line in lines:
        if len(line) < 120 and translation_note(line, cr):
            found = found or line
        else:
            kept.append(line)
    return found, kept


# --- the body -----------------------------------------------------------------

def is_prose(line: str, rules: ExtractionRules) -> bool:
    """A sentence of speech: enough words, ends like a sentence, no contact data."""
    if "@" in line or "http" in line or "www." in line:
        return False
    if not line.endswith(_SENTENCE_END):
        return False
    # At most prose_min_words pieces are split off: a long paragraph is not split whole.
    if len(line.split(None, max(rules.prose_min_words - 1, 0))) < rules.prose_min_words:
        return False
    digits = sum(map(line.count, _DIGITS))
    return digits <= len(line) * 0.2


def is_boilerplate_line(line: str, cr: CompiledRules, key: str | None = None) -> bool:
    """``key``: the line's normalise_phrase form when the caller has it already."""
    key = normalise_phrase(line) if key is None else key
    if not key or key in cr.boilerplate:
        return True
    if cr.patterns.languages_line.match(line):
        return True
    return any(p.match(line.strip(BULLETS)) for p in cr.boilerplate_patterns)


def _is_listing_name(line: str) -> bool:
    """A short heading-like line (a country, an embassy's name) that may precede contacts."""
    return len(line.split()) <= _LISTING_NAME_MAX_WORDS and not line.rstrip().endswith(
        (".", ",", ";", "!", "?", "…", ":"))


def clean_lines(lines: list[str], rules: ExtractionRules) -> list[str]:
    """Drop boilerplate lines and listings; keep every other line as it is."""
    cr = compiled(rules)
    kept: list[str] = []
    in_listing = False
    since_prose = 0  # lines kept since the last prose line, candidates for a listing's head
    for line in lines:
        key = normalise_phrase(line)
        if key in cr.listing_starts:
            in_listing = True
            continue
        if key in cr.contact_labels:
            if not in_listing:
                # a listing without its heading: its name lines came just before
                for _ in range(min(since_prose, _LISTING_BACKTRACK)):
                    if not (kept and _is_listing_name(kept[-1])):
                        break
                    kept.pop()
                in_listing = True
            continue
        prose = is_prose(line, rules)
        if in_listing:
            if not prose:
                continue
            in_listing = False
        if not prose and is_boilerplate_line(line, cr, key):
            continue
        kept.append(line)
        since_prose = 0 if prose else since_prose + 1
    return kept
