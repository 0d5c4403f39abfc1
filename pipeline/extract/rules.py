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

# The letters that [а-яё] and [a-z] match with re.IGNORECASE, spelled out: both cases and the
# few other code points Python's case-insensitive matching takes for them (rounded Cyrillic
# forms, the Kelvin sign, dotted and dotless i, long s). Matching without IGNORECASE is a
# third cheaper; tests/unit/test_extract_fast_paths.py compares the two on every code point.
_CYRILLIC_LETTERS = re.compile("[а-яА-ЯёЁ\u1c80-\u1c86]+")
_LATIN_LETTERS = re.compile("[a-zA-Z\u0130\u0131\u017f\u212a]+")
_ASCII_LETTERS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_MENU_WORD = re.compile(r"[^\W\d_]{3,}")

# (old, new) pairs applied with str.replace: a dict-driven str.translate walks Cyrillic
# text character by character in Python-level look-ups, 100x slower on long lines.
_APOSTROPHES = (("’", "'"), ("‘", "'"), ("ʼ", "'"), ("`", "'"), ("\u00a0", " "))
BULLETS = "•·*–—-\u2022 \t"


def normalise_phrase(text: str) -> str:
    """The form phrases are compared in: NFC, case-folded, plain apostrophes, no bullets."""
    if text.isascii():
        # ASCII is already NFC and case-folds as lower(); of the apostrophes only "`" is ASCII
        if "`" in text:
            text = text.replace("`", "'")
        return " ".join(text.strip(BULLETS).rstrip(" :").split()).lower()
    text = unicodedata.normalize("NFC", text)
    for old, new in _APOSTROPHES:
        if old in text:
            text = text.replace(old, new)
    text = text.strip(BULLETS).rstrip(" :").strip()
    # split/join collapses the same Unicode whitespace runs as re's \s+, without the regex
    return " ".join(text.split()).casefold()


def letter_counts(text: str) -> tuple[int, int]:
    """(Cyrillic letters, Latin letters) in ``text``: what tells its script."""
    if text.isascii():
        data = text.encode("ascii")
        return 0, len(data) - len(data.translate(None, _ASCII_LETTERS))
    # what a deletion takes out: one pass, no list of matches
    return len(text) - len(_CYRILLIC_LETTERS.sub("", text)), len(text) - len(_LATIN_LETTERS.sub("", text))


# --- speaker names ---------------------------------------------------------------------

# Russian -> Latin letters (close to the BGN/PCGN romanisation the site's English pages use).
_TRANSLIT = str.maketrans({
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh", "з": "z", "и": "i",
    "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t",
    "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y", "ь": "",
    "э": "e", "ю": "yu", "я": "ya"})
# Spellings that differ between romanisations of one Russian name (Makei/Makey, Lawrow/Lavrov,
# Sergej/Sergey, Sacharowa/Zakharova), folded to one form in the fallback key.
_FOLD = (("kh", "h"), ("ch", "h"), ("w", "v"), ("j", "i"), ("y", "i"), ("ii", "i"))
_NAME_PARTS = re.compile(r"[\s.]+")


def _fold(word: str) -> str:
    word = unicodedata.normalize("NFKD", word.casefold().translate(_TRANSLIT))
    word = "".join(ch for ch in word if ch.isalpha() and not unicodedata.combining(ch))
    for old, new in _FOLD:
        word = word.replace(old, new)
    return word


def fallback_key(name: str) -> str:
    """``<surname>-<initial>`` romanised and folded: the id of a speaker the profile does not list."""
    parts = [p for p in _NAME_PARTS.split(name) if p]
    if not parts:
        return _fold(name) or name
    surname = _fold(parts[-1])
    return f"{surname}-{_fold(parts[0])[:1]}" if len(parts) > 1 else surname


def name_form(name: str) -> str:
    """A printed name compared without case or the spaces after initials."""
    return _NAME_PARTS.sub(" ", name.casefold()).strip()


# A key that no phrase list holds (``CompiledRules.phrase_key``); control characters never
# reach the lines (decode removes them), so no line normalises to it.
NOT_A_PHRASE = "\x00"


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
        self.question_links = frozenset(normalise_phrase(s) for lang in langs for s in lang.question_links)
        self.answer_labels = frozenset(normalise_phrase(s) for lang in langs for s in lang.answer_labels)
        self.topic_headings = {normalise_phrase(s) for lang in langs for s in lang.topic_headings}
        self.months = {name.casefold(): num for lang in langs for name, num in lang.months.items()}
        self.date_suffixes = sorted({s for lang in langs for s in lang.date_suffixes}, key=len, reverse=True)
        # Language detection: stopword sets of the Latin-script languages, and the
        # languages whose stopwords are Cyrillic (the first is taken for Cyrillic text).
        self.latin_stopwords = {code: frozenset(lang.stopwords) for code, lang in rules.languages.items()
                                if not _CYRILLIC_LETTERS.search(" ".join(lang.stopwords))}
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
        # " - <site name>" (or " | ", " – ") at the end of a <title>, in any language, longest name first
        names = sorted({n for lang in langs for n in lang.site_names}, key=len, reverse=True)
        self.title_suffix = (re.compile(rf"\s+[-|–—]\s+(?:{'|'.join(re.escape(n) for n in names)})\s*$",
                                        re.IGNORECASE) if names else None)
        # The most words a listed line phrase has: a line with more is none of them.
        self.phrase_max_words = max((len(key.split()) for key in
                                     self.boilerplate | self.listing_starts | self.contact_labels), default=0)
        # printed name (case-folded, initials' dots as spaces) -> canonical speaker id
        self.speaker_ids = {name_form(name): key for key, names in rules.speakers.items() for name in names}
        # the fallback key of each listed form -> its id, unless two people share the key
        by_key: dict[str, set[str]] = {}
        for key, names in rules.speakers.items():
            for name in names:
                by_key.setdefault(fallback_key(name), set()).add(key)
        self.speaker_ids_by_key = {k: next(iter(ids)) for k, ids in by_key.items() if len(ids) == 1}
        # titles and honorifics printed before a name ("Foreign Minister", "Министр", "Mr"),
        # longest first, any number of them
        titles = sorted({t for lang in langs for t in lang.speaker_titles}, key=len, reverse=True)
        self._titles = (re.compile(rf"^(?:(?:{'|'.join(re.escape(t) for t in titles)})\.?\s+)+", re.IGNORECASE)
                        if titles else None)

    def without_titles(self, name: str) -> str:
        """``name`` without the titles and honorifics before it (the name itself if that is all)."""
        if self._titles is None:
            return name
        rest = self._titles.sub("", name.strip(), count=1)
        return rest or name

    def phrase_key(self, line: str) -> str:
        """``normalise_phrase(line)`` when the line may be one of the listed phrases
        (boilerplate lines, listing headings, contact labels), else ``NOT_A_PHRASE``.

        Normalising a speech paragraph costs more than all the rest of its look-ups, and
        it can only match when short: the key keeps every word of the line inside its
        leading and trailing bullets and colons, so a line with more words than the
        longest phrase normalises to none of them."""
        limit = self.phrase_max_words
        if len(line.strip(_KEY_EDGES).split(None, limit)) > limit:
            return NOT_A_PHRASE
        return normalise_phrase(line)


# What normalise_phrase takes off the ends of a line, counting what it first turns into
# one of those: a no-break space becomes a space, the Greek ano teleia (NFC) a middle dot.
_KEY_EDGES = BULLETS + ":\u00a0\u0387"

_COMPILED: dict[int, CompiledRules] = {}


def compiled(rules: ExtractionRules) -> CompiledRules:
    """One CompiledRules per profile object (profiles are immutable and cached)."""
    entry = _COMPILED.get(id(rules))
    if entry is None or entry.rules is not rules:
        entry = _COMPILED[id(rules)] = CompiledRules(rules)
    return entry
