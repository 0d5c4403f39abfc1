"""Stage extract, text layer: lines of a page -> the speech paragraphs and the head metadata.

Reads the lines of a plain-text dump, or the lines of an HTML text container
(what leaks into it). Two jobs:

* ``read_head`` takes the metadata lines off the top (section header, date and
  time, title, languages line, document number) and returns them apart;
* ``clean_lines`` drops boilerplate anywhere in the rest: whole-line phrases of
  the search form, additional materials and photo albums, and listings (embassy
  contacts, country tags) that run until the next line reading like prose; then
  ``structural`` decides every other line from its shape (see its docstring), so a
  menu entry in a wording no list has is still recognised as page chrome.

Every phrase and pattern comes from the site profile (``ExtractionRules``), in
every language the site serves, so no single template language is assumed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pipeline.extract.metadata import label_kind, parse_date, speaker_of, title_tail, without_site_name
from pipeline.profile import ExtractionRules
from pipeline.extract.rules import BULLETS, CompiledRules, compiled, letter_counts, normalise_phrase

_SENTENCE_END = (".", "!", "?", "…", "»", "\"", "”", ":")
_LISTING_NAME_MAX_WORDS = 14
_LISTING_BACKTRACK = 3
_SECTION_MAX_WORDS = 6  # a section header is short; a title names people, place and date
_DIGITS = b"0123456789"


class Line(str):
    """A line of a text dump that knows how many blank lines came before it: a scraper
    separates paragraphs with one, and page chrome from the text with several."""

    gap: int = 0


# Characters that show nothing yet split a word for search and hashing: the soft hyphen, the
# zero-width space, the word joiner and a byte-order mark inside the text ("Lav\u00adrov" is
# one token that a search for Lavrov never finds).
_INVISIBLE = re.compile("[\u00ad\u200b\u2060\ufeff]+")


def drop_invisible(text: str) -> str:
    """``text`` without the invisible characters that split words. Most text has none: four
    substring tests cost a fiftieth of the regex's scan of a Cyrillic paragraph."""
    if text.isascii() or not ("\u00ad" in text or "\u200b" in text or "\u2060" in text or "\ufeff" in text):
        return text
    return _INVISIBLE.sub("", text)


def split_lines(text: str, *, gaps: bool = False) -> list[str]:
    """Non-empty lines, stripped of surrounding whitespace (no-break spaces too) and of
    invisible characters; with ``gaps`` each is a Line carrying the number of blank lines
    before it."""
    text = drop_invisible(text)
    if not gaps:
        return [line.strip() for line in text.splitlines() if line.strip()]
    lines: list[str] = []
    blank = 0
    for raw in text.splitlines():
        stripped = raw.strip()
        if not stripped:
            blank += 1
            continue
        line = Line(stripped)
        line.gap = blank
        lines.append(line)
        blank = 0
    return lines


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


# How a title never ends: it names an event, a speech paragraph ends a sentence ("Добрый день!").
_NOT_A_TITLE_END = (".", "!", "?", "…", ":", ",", ";")


def could_be_title(line: str, cr: CompiledRules) -> bool:
    """Whether the first line of a dump after its metadata may be the title: one that ends with
    place and date (the site's names taken off) is; a speaker's turn (``Вопрос: ...``) or a
    line that ends as a sentence does is not, it is the first paragraph of a dump that has no
    title line (other scrapers save the speech paragraphs only)."""
    if title_tail(without_site_name(line, cr), cr)[1] is not None:
        return True
    if speaker_of(line, cr) is not None:
        return False
    return not line.rstrip().endswith(_NOT_A_TITLE_END)


def read_head(lines: list[str], rules: ExtractionRules, *, title_known: str | None = None,
              title_in_text: bool = True) -> tuple[Head, list[str]]:
    """Take the metadata lines off the top; the first other line is the title
    (in a text dump, unless it is already known, and only when ``could_be_title``), the
    next one starts the body."""
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
            if head.title is None and title_in_text and could_be_title(line, cr):
                head.title = line
                index += 1
                continue
            break
        name, value = kind
        if (name in ("date_time", "time", "date") and head.title is not None and title_known is None
                and head.section is None and head.date_text is None and head.time_text is None
                and len(head.title.split()) <= _SECTION_MAX_WORDS and not is_prose(head.title, rules)):
            # a line before the date is the section header in a wording the profile does
            # not list ("Spokeswoman’s briefings"); the title comes after the date
            head.section, head.title = head.title, None
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


# Words a translation note may have beyond a listed one ("Unofficial translation" + "from the
# Russian language"); a line in a sentence's shape is never a note, however short.
_NOTE_MORE_WORDS = 5


def translation_note(line: str, cr: CompiledRules) -> bool:
    """A note such as "Unofficial translation from Russian" (maybe with a few more words),
    never a sentence of speech that mentions one."""
    if cr.translation_note_start is None or not cr.translation_note_start.match(line):
        return False  # most lines: one regex match
    key = normalise_phrase(line).strip(" .;()[]*")
    for note in cr.translation_notes:
        if key == note:
            return True
        if key.startswith(note) and len(key[len(note):].split()) <= _NOTE_MORE_WORDS and not is_prose(line, cr.rules):
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
    # Digits are ASCII: as many bytes of the UTF-8 form as characters of the line, counted by
    # one C-speed deletion instead of ten scans of the line.
    data = line.encode("utf-8", "surrogatepass")
    digits = len(data) - len(data.translate(None, _DIGITS))
    return digits <= len(line) * 0.2


def is_boilerplate_line(line: str, cr: CompiledRules, key: str | None = None, *, prose: bool = False) -> bool:
    """A line the profile lists: a phrase, a pattern, the languages line. ``key``: the line's
    normalise_phrase form when the caller has it already. A line that reads as ``prose`` goes
    only when the profile lists all of it: the phrase, or a pattern matching the whole line.
    So a notice in a sentence's shape (``... press Ctrl+Enter.``) is taken out by listing it,
    and a pattern written for a label's start (``^Версия для``) never takes a speech
    paragraph that begins so."""
    key = normalise_phrase(line) if key is None else key
    if not key or key in cr.boilerplate:
        return True
    stripped = line.strip(BULLETS)
    if prose:
        return any(p.fullmatch(stripped) for p in cr.boilerplate_patterns)
    if cr.patterns.languages_line.match(line):
        return True
    return any(p.match(stripped) for p in cr.boilerplate_patterns)


def _is_listing_name(line: str) -> bool:
    """A short heading-like line (a country, an embassy's name) that may precede contacts."""
    return len(line.split()) <= _LISTING_NAME_MAX_WORDS and not line.rstrip().endswith(
        (".", ",", ";", "!", "?", "…", ":"))


def clean_lines(lines: list[str], rules: ExtractionRules) -> list[str]:
    """Drop boilerplate lines and listings, then page chrome by its shape; keep every
    other line as it is."""
    cr = compiled(rules)
    known, prose = _drop_known(lines, cr)
    return structural(lines, cr, prose, known)


def _drop_known(lines: list[str], cr: CompiledRules) -> tuple[list[bool], list[bool]]:
    """Known phrases and patterns, and listings from their heading or first contact label:
    for every line, whether it is dropped so, and whether it reads as prose."""
    rules = cr.rules
    dropped = [False] * len(lines)
    prose_flags = [False] * len(lines)
    kept: list[int] = []  # indices of the lines kept so far
    in_listing = False
    since_prose = 0  # lines kept since the last prose line, candidates for a listing's head
    for i, line in enumerate(lines):
        key = cr.phrase_key(line)
        if key in cr.listing_starts:
            in_listing = dropped[i] = True
            continue
        if key in cr.contact_labels:
            if not in_listing:
                # a listing without its heading: its name lines came just before
                for _ in range(min(since_prose, _LISTING_BACKTRACK)):
                    if not (kept and _is_listing_name(lines[kept[-1]])):
                        break
                    dropped[kept.pop()] = True
                in_listing = True
            dropped[i] = True
            continue
        prose = prose_flags[i] = is_prose(line, rules)
        if in_listing:
            if not prose:
                dropped[i] = True
                continue
            in_listing = False
        if is_boilerplate_line(line, cr, key, prose=prose):
            dropped[i] = True
            continue
        kept.append(i)
        since_prose = 0 if prose else since_prose + 1
    return dropped, prose_flags


# --- page chrome by its shape ---------------------------------------------------------

_SENTENCE_STOP = (".", "!", "?", "…", "»", "\"", "”", "“", "'")
_SHORT_WORDS = 5
_RUN_INSIDE = 3  # label-like lines in a row that make a leaked menu inside the speech
_WORD = re.compile(r"[^\W\d_]{3,}")


def _sentence_like(line: str) -> bool:
    """Ends as a sentence or an address does (``Thank you.``, ``Colleagues,``, ``Question:``)."""
    return line.rstrip().endswith(_SENTENCE_STOP + (",", ":", ";"))


def _script(text: str) -> str | None:
    text = text[:1500]  # a sample tells the script
    cyrillic, latin = letter_counts(text)
    if cyrillic == latin:
        return None
    return "cyrillic" if cyrillic > latin else "latin"


def chrome_signal(line: str, cr: CompiledRules) -> str | None:
    """Why a line is page chrome whatever its position (None when nothing says so):
    a counter (``1 of 12 photos in album``), a bulleted label, a short label with a colon
    that names no speaker, or mostly words of the profile's boilerplate in any language
    (``Advanced search settings``, ``ADDITIONAL MATERIALS AND DOCUMENTS``)."""
    stripped = line.strip()
    if cr.patterns.counter_line is not None and cr.patterns.counter_line.match(stripped):
        return "counter"
    sentence = _sentence_like(stripped)
    words = stripped.split()
    if stripped[:1] in "•·*▪►" and not stripped.rstrip().endswith(_SENTENCE_STOP):
        return "bullet"
    if len(words) > 12:
        return None
    if stripped.endswith(":") and len(words) <= 3 and not _labels_speaker(stripped[:-1], cr):
        return "label"
    tokens = [w.casefold() for w in _WORD.findall(stripped)]
    content = [t for t in tokens if t not in cr.stopwords]
    if content and not (sentence and len(words) > 4):
        known = sum(1 for t in content if t in cr.chrome_words)
        if known * 5 >= len(content) * 3:  # 60% of its words are menu words
            return "menu words"
    return None


def _labels_speaker(label: str, cr: CompiledRules) -> bool:
    return label_kind(label, cr) is not None


def structural(lines: list[str], cr: CompiledRules, prose: list[bool] | None = None,
               known: list[bool] | None = None) -> list[str]:
    """Drop page chrome by its shape; a genuine speech paragraph is never dropped.

    ``known``: the lines the phrase lists already dropped (they still count as chrome
    next to a line). Anchors are the lines that read as speech (prose, or a speaker label
    with text); the speech block runs from the first to the last anchor. A heading (a
    label-like line of five or more words right before an anchor, or the last of the
    lines repeated from a table of contents), the items of a list a sentence of speech
    announces (``_announced_items``) and a last paragraph without its full stop
    (``_closing_paragraph``) are never dropped. Decided per line:

    * anywhere: a chrome signal (``chrome_signal``) on a line that is not prose, or a
      label-like line (no sentence ending) that repeats on the page (``• France`` x 9);
    * inside the speech block: a run of ``_RUN_INSIDE``+ short label-like lines (a menu
      leaked between paragraphs); a lone one or two, or one without letters
      (``1941-1945``), stay;
    * before the first anchor and after the last one: label-like lines in a run of two or
      more, in the other script than the speech (a Russian template's menu under an
      English text), or after a gap of several blank lines in a dump (a scraper's
      separation of the page chrome); short sentences (``Thank you.``) stay.
    """
    if not lines:
        return lines
    if prose is None:
        prose = [is_prose(line, cr.rules) for line in lines]
    drop = list(known) if known is not None else [False] * len(lines)
    anchors = [i for i, line in enumerate(lines) if not drop[i] and (prose[i] or _labelled(line, cr))]
    first, last = (anchors[0], anchors[-1]) if anchors else (len(lines), -1)
    speech_script = _script(" ".join(lines[i] for i in anchors[:20])) if anchors else None
    # No sentence ending: a label, a menu entry, an address or a phone line (any length).
    label_like = [not drop[i] and not _sentence_like(line) for i, line in enumerate(lines)]
    short = [like and len(line.split()) <= _SHORT_WORDS * 2 for like, line in zip(label_like, lines)]
    is_anchor = [False] * len(lines)
    for i in anchors:
        is_anchor[i] = True
    first_seen: dict[str, int] = {}
    counts: dict[str, int] = {}
    for i, line in enumerate(lines):
        if label_like[i]:
            first_seen.setdefault(line, i)
            counts[line] = counts.get(line, 0) + 1
    protected = [label_like[i] and i + 1 < len(lines) and is_anchor[i + 1]
                 and (len(line.split()) >= _SHORT_WORDS or first_seen[line] < i)
                 for i, line in enumerate(lines)]
    for i in _announced_items(lines, cr, label_like, is_anchor, prose):
        protected[i] = True
    for i, line in enumerate(lines):
        if drop[i] or prose[i] or protected[i]:
            continue
        if chrome_signal(line, cr):
            drop[i] = True
        elif label_like[i] and counts[line] > 1:
            drop[i] = True  # repeated: country tags, or a table-of-contents entry (its heading is protected)
    closing = _closing_paragraph(lines, drop, label_like, short, last)
    if closing is not None:
        protected[closing] = True
    outside_gap = False
    for i, line in enumerate(lines):
        if drop[i] or not label_like[i] or protected[i]:
            continue
        if first < i < last:  # inside the speech: only a run of short labels is a leaked menu
            drop[i] = (short[i] and _has_letters(line) and _run_length(short, drop, i) >= _RUN_INSIDE)
            continue
        run = _run_length(label_like, drop, i)
        if i > last and getattr(line, "gap", 0) >= 2:
            outside_gap = True
        other_script = speech_script is not None and _script(line) not in (None, speech_script)
        drop[i] = run >= 2 or other_script or outside_gap
    return [line for i, line in enumerate(lines) if not drop[i]]


def _closing_paragraph(lines: list[str], drop: list[bool], label_like: list[bool], short: list[bool],
                       last: int) -> int | None:
    """The speech's last paragraph when it lacks its full stop (the site's text has such slips):
    the first line kept after the last anchor, longer than a label (more than
    ``2 * _SHORT_WORDS`` words), and no other unknown label right after it before the
    scraper's gap. Known chrome next to it (dropped by its phrase) does not make it chrome; a
    block of unknown labels around a long line does."""
    if last < 0:
        return None
    after = [j for j in range(last + 1, len(lines)) if not drop[j]]
    if not after or not label_like[after[0]] or short[after[0]]:
        return None
    if len(after) > 1 and label_like[after[1]] and not any(
            getattr(lines[j], "gap", 0) >= 2 for j in range(after[0] + 1, after[1] + 1)):
        return None
    return after[0]


def _announced_items(lines: list[str], cr: CompiledRules, label_like: list[bool], is_anchor: list[bool],
                     prose: list[bool]) -> list[int]:
    """The items of lists the speech announces: the label-like lines right after a sentence of
    speech that ends with a colon ("... the following areas:"), up to the next line of speech,
    a known phrase, a counter, or a scraper's gap of blank lines. Items of speech
    (``strategic stability and arms control``, ``• migration``) look like a leaked menu by
    their shape; the sentence that announces them tells them apart."""
    items: list[int] = []
    counter = cr.patterns.counter_line
    for i, line in enumerate(lines):
        if not (prose[i] and is_anchor[i] and line.rstrip().endswith(":")):
            continue
        j = i + 1
        while (j < len(lines) and label_like[j] and not is_anchor[j] and getattr(lines[j], "gap", 0) < 2
               and not (counter is not None and counter.match(lines[j].strip()))):
            items.append(j)
            j += 1
    return items


def _has_letters(line: str) -> bool:
    return any(ch.isalpha() for ch in line)


def _labelled(line: str, cr: CompiledRules) -> bool:
    """A speaker label followed by what was said (``Question: What next?``)."""
    match = cr.patterns.speaker_label.match(line)
    return bool(match and match["rest"].strip() and _labels_speaker(match["label"].strip(), cr))


def _run_length(label_like: list[bool], drop: list[bool], i: int) -> int:
    """How many label-like lines in a row (dropped ones count) contain line ``i``."""
    def like(j: int) -> bool:
        return label_like[j] or drop[j]
    start = i
    while start > 0 and like(start - 1):
        start -= 1
    end = i
    while end + 1 < len(label_like) and like(end + 1):
        end += 1
    return end - start + 1
