"""Compiled look-ups of the site profile's extraction rules, shared by clean and parse.

Reads the ``extraction:`` section of the site profile (``ExtractionRules``) once per
profile object and keeps its phrase lists merged over all languages in the form
lines are compared in (``normalise_phrase``), plus what detecting a language and
a main speaker needs, so no stage rebuilds them per page or per line.
"""

from __future__ import annotations

import re
import unicodedata

from pipeline.profile import ExtractionRules

_CYRILLIC = re.compile(r"[а-яё]", re.IGNORECASE)
_MENU_WORD = re.compile(r"[^\W\d_]{3,}")

# (old, new) pairs applied with str.replace: a dict-driven str.translate walks Cyrillic
# text character by character in Python-level look-ups, 100x slower on long lines.
_APOSTROPHES = (("’", "'"), ("‘", "'"), ("ʼ", "'"), ("`", "'"), ("\u00a0", " "))
BULLETS = "•·*–—-\u2022 \t"


def normalise_phrase(text: str) -> str:
    """The form phrases are compared in: NFC, case-folded, plain apostrophes, no bullets."""
    text = unicodedata.normalize("NFC", text)
    for old, new in _APOSTROPHES:
        if old in text:
            text = text.replace(old, new)
    text = text.strip(BULLETS).rstrip(" :").strip()
    # split/join collapses the same Unicode whitespace runs as re's \s+, without the regex
    return " ".join(text.split()).casefold()


class CompiledRules:
    """The profile's phrase lists merged over all languages, ready for fast look-ups."""

    def __init__(self, rules: ExtractionRules):
        self.rules = rules
        self.patterns = rules.patterns
        langs = rules.all_languages()
        self.sections = {normalise_phrase(s): s for lang in langs for s in lang.sections}
        self.boilerplate = {normalise_phrase(s) for lang in langs for s in lang.boilerplate_lines}
        self.boilerplate_patterns = [p for lang in langs for p in lang.boilerplate_patterns]
        self.listing_starts = {normalise_phrase(s) for lang in langs for s in lang.listing_starts}
        self.contact_labels = {normalise_phrase(s) for lang in langs for s in lang.contact_labels}
        self.question_labels = {normalise_phrase(s) for lang in langs for s in lang.question_labels}
        self.topic_headings = {normalise_phrase(s) for lang in langs for s in lang.topic_headings}
        self.months = {name.casefold(): num for lang in langs for name, num in lang.months.items()}
        self.date_suffixes = sorted({s for lang in langs for s in lang.date_suffixes}, key=len, reverse=True)
        # Language detection: stopword sets of the Latin-script languages, and the
        # languages whose stopwords are Cyrillic (the first is taken for Cyrillic text).
        self.latin_stopwords = {code: frozenset(lang.stopwords) for code, lang in rules.languages.items()
                                if not _CYRILLIC.search(" ".join(lang.stopwords))}
        self.cyrillic_languages = [code for code in rules.languages if code not in self.latin_stopwords]
        self.main_speakers = [name for lang in langs for name in lang.main_speakers]
        self.dateparser_languages = list(rules.languages)
        # Words of menus and captions: those of every boilerplate phrase and contact label,
        # and the profile's chrome_words; stopwords do not count.
        self.stopwords = frozenset(w.casefold() for lang in langs for w in lang.stopwords)
        # (not the listing headings: "Russia", "foreign" are words of speech too)
        phrases = [p for lang in langs for p in lang.boilerplate_lines + lang.contact_labels + lang.chrome_words]
        self.chrome_words = frozenset(w.casefold() for p in phrases for w in _MENU_WORD.findall(p)) - self.stopwords
        self.translation_notes = sorted({normalise_phrase(s) for lang in langs for s in lang.translation_notes},
                                        key=len, reverse=True)
        starts = sorted({re.escape(note.split()[0]) for note in self.translation_notes})
        self.translation_note_start = (re.compile(rf"[\W_]*(?:{'|'.join(starts)})\b", re.IGNORECASE)
                                       if starts else None)
        # printed name (case-folded, initials' dots as spaces) -> canonical speaker id
        self.speaker_ids = {re.sub(r"[\s.]+", " ", name.casefold()).strip(): key
                            for key, names in rules.speakers.items() for name in names}


_COMPILED: dict[int, CompiledRules] = {}


def compiled(rules: ExtractionRules) -> CompiledRules:
    """One CompiledRules per profile object (profiles are immutable and cached)."""
    entry = _COMPILED.get(id(rules))
    if entry is None or entry.rules is not rules:
        entry = _COMPILED[id(rules)] = CompiledRules(rules)
    return entry
