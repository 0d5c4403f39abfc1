"""Stage extract, structure layer: cleaned text -> dates, place, language and turns.

Reads strings the cleaner already isolated (a date line, a title, the speech
paragraphs) and the site profile. Dates are read with the profile's month
tables in English, Russian and the other site languages ("1 December 2020",
"December 1, 2020", "18 ноября 2019 года", "18.06.2021"); other forms (ISO
stamps in markup, listing hints) go to dateparser. Times are Moscow time.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from functools import lru_cache

import dateparser

from pipeline.profile import ExtractionRules
from pipeline.model.records import MOSCOW, Turn
from pipeline.extract.rules import CompiledRules, compiled, fallback_key, letter_counts, name_form, normalise_phrase

# A time, and the am/pm mark a 12-hour clock puts after it ("1:20 pm", "11:05 p.m.").
_TIME = re.compile(r"\b([01]?\d|2[0-3]):([0-5]\d)\b(?:\s?([ap])\.?\s?m\b\.?)?", re.IGNORECASE)
_WORD = re.compile(r"[^\W\d_]+")

# --- dates and times ------------------------------------------------------------


def _strip_suffixes(text: str, cr: CompiledRules) -> str:
    text = text.strip()
    for suffix in cr.date_suffixes:
        if text.endswith(suffix):
            text = text[: -len(suffix)]
            break
    return text.strip().rstrip(".,").strip()


def _make_date(year: str, month: int | None, day: str) -> date | None:
    if month is None:
        return None
    number = int(year)
    if len(year) == 2:  # the old portal writes "29.06.17"; it has nothing before 2000
        number += 2000
    try:
        return date(number, month, int(day))
    except ValueError:
        return None


def parse_date(text: str, cr: CompiledRules, *, whole: bool = False) -> date | None:
    """A date written in one of the site's forms; ``whole``: the text is only that date."""
    text = _strip_suffixes(text, cr)
    patterns = cr.patterns
    for pattern in (patterns.date_dmy, patterns.date_mdy):
        match = pattern.fullmatch(text) if whole else pattern.search(text)
        if match:
            found = _make_date(match["year"], cr.months.get(match["month"].casefold()), match["day"])
            if found:
                return found
    match = patterns.date_numeric.fullmatch(text) if whole else patterns.date_numeric.search(text)
    if match:
        return _make_date(match["year"], int(match["month"]), match["day"])
    return None


@lru_cache(maxsize=1024)
def _dateparser(text: str, languages: tuple[str, ...]) -> datetime | None:
    return dateparser.parse(text, languages=list(languages),
                            settings={"TIMEZONE": "Europe/Moscow", "RETURN_AS_TIMEZONE_AWARE": True,
                                      "DATE_ORDER": "DMY", "PREFER_DAY_OF_MONTH": "first"})


def parse_datetime_loose(text: str, cr: CompiledRules) -> datetime | None:
    """Any date (and time) a date element or a hint may hold; Moscow time when none is given."""
    text = text.strip()
    if not text:
        return None
    day = parse_date(text, cr)
    if day is not None:
        return combine(day, parse_time(text))
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        parsed = _dateparser(text[:80], tuple(cr.dateparser_languages))
    if parsed is None:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=MOSCOW)


def parse_time(text: str | None) -> time | None:
    if not text:
        return None
    match = _TIME.search(text)
    if not match:
        return None
    hour, minute, mark = int(match.group(1)), int(match.group(2)), (match.group(3) or "").lower()
    if mark and 1 <= hour <= 12:  # "12:40 am" is 00:40, "1:20 pm" 13:20; "13:20 pm" says nothing more
        hour = hour % 12 + (12 if mark == "p" else 0)
    return time(hour, minute)


def combine(day: date, at: time | None) -> datetime:
    """A Moscow-time datetime; midnight when the page gives no time."""
    return datetime.combine(day, at or time(0, 0), tzinfo=MOSCOW)


def doc_number_day(number: str | None, cr: CompiledRules) -> date | None:
    """The day a document number carries (``867-05-05-2023``: 5 May 2023), when the profile's
    ``doc_number_search`` has day, month and year groups; None otherwise."""
    search = cr.patterns.doc_number_search
    if not number or search is None or not {"day", "month", "year"} <= set(search.groupindex):
        return None
    match = search.search(number)
    if not match:
        return None
    try:
        return date(int(match["year"]), int(match["month"]), int(match["day"]))
    except ValueError:
        return None


# --- the title's tail -------------------------------------------------------------


def without_site_name(title: str, cr: CompiledRules) -> str:
    """A title without the site's name a page's <title> ends with (profile ``site_names``)."""
    if cr.title_suffix is None:
        return title
    return cr.title_suffix.sub("", title).strip()


def title_tail(title: str, cr: CompiledRules) -> tuple[str | None, date | None]:
    """(place, date) from "..., Moscow, December 1, 2020" or "..., Москва, 18 ноября 2019 года"."""
    match = cr.patterns.title_tail.search(title)
    if match:
        day = parse_date(match["date"], cr, whole=True)
        if day is not None:
            return match["place"].strip(), day
    return None, parse_date(title[-40:], cr)


# --- language -----------------------------------------------------------------------


def language_from_url(url: str | None, rules: ExtractionRules, *, asked_only: bool = False) -> str | None:
    """The content language a URL names: ``?lang=xx``, else (unless ``asked_only``) the
    ``/xx/`` path prefix, which does not decide it when ``lang`` is given."""
    if not url or rules.url_language is None:
        return None
    path_code = query_code = None
    for match in rules.url_language.finditer(url):
        found = match.groupdict()
        query_code = query_code or found.get("qlang")
        path_code = path_code or found.get("lang")
    code = query_code if asked_only else query_code or path_code  # ?lang=de on an /en/ path is German
    return code if code in rules.languages else None


def detect_language(text: str, rules: ExtractionRules, default: str) -> str:
    """Mostly Cyrillic -> the profile's Cyrillic-script language (ru); otherwise the
    Latin-script language whose stopwords are most frequent."""
    cr = compiled(rules)
    sample = text[:5000]
    cyrillic, latin = letter_counts(sample)
    if cyrillic > latin:
        return cr.cyrillic_languages[0] if cr.cyrillic_languages else default
    words = [w.casefold() for w in _WORD.findall(sample)]
    best, best_hits = default, 0
    for code, stop in cr.latin_stopwords.items():
        hits = sum(1 for w in words if w in stop)
        if hits > best_hits:
            best, best_hits = code, hits
    return best


# --- speaker ids ---------------------------------------------------------------------

def speaker_key(name: str, rules: ExtractionRules) -> str:
    """The canonical id of a speaker: the profile's id for a listed name, else
    ``<surname>-<initial>`` romanised and folded (``А.С.Мирзоян`` and ``Ararat Mirzoyan``
    -> ``mirzoian-a``). A title or honorific before the name (``Foreign Minister``,
    ``Министр``, ``Mr``: the profile's ``speaker_titles``) is no part of it, and an unlisted
    form of a listed person (``M.Zakharova``) gets the listed person's id when its key is the
    key of one of the listed forms."""
    cr = compiled(rules)
    name = cr.without_titles(name)
    known = cr.speaker_ids.get(name_form(name))
    if known:
        return known
    key = fallback_key(name)
    return cr.speaker_ids_by_key.get(key) or key


# --- turns ---------------------------------------------------------------------------


def speaker_of(paragraph: str, cr: CompiledRules) -> tuple[str | None, bool, str] | None:
    """(plain name, is a question, text after the label) for a labelled paragraph; the name is
    None for an answer label that names nobody ("Answer:"): the main speaker answers."""
    match = cr.patterns.speaker_label.match(paragraph)
    if not match:
        return None
    kind = label_kind(match["label"], cr)
    return None if kind is None else (*kind, match["rest"].strip())


def label_kind(label: str, cr: CompiledRules) -> tuple[str | None, bool] | None:
    """What a speaker label opens: (the label without its note, True) for a question, (None,
    False) for an answer label that names nobody, (the label without its note, False) for a
    named speaker, or None when it opens no turn. One test for the turns and the cleaner."""
    bare = re.sub(r"\s*\([^)]*\)\s*$", "", label.strip()).strip()
    if is_question_label(bare, cr):
        return bare, True
    if normalise_phrase(bare) in cr.answer_labels:
        return None, False
    # a title before the name may have words in lower case ("Министр иностранных дел С.В.Лавров")
    names = cr.patterns.speaker_name
    if names.match(label.strip()) or names.match(cr.without_titles(label.strip())):
        return bare, False
    return None


_QUOTES = "«»\"“”„'"
_ASKER_MAX_WORDS = 8


def is_question_label(label: str, cr: CompiledRules) -> bool:
    """A label (its note taken off) that opens a question: a question label of the profile,
    alone or naming who asks."""
    return normalise_phrase(label) in cr.question_labels or names_who_asks(label, cr)


def names_who_asks(label: str, cr: CompiledRules) -> bool:
    """A question label, then who asks: a link word, a name or a quoted name ("Question from
    Reuters", "Question from the floor", "Вопрос агентства «Рейтер»"). Speech that starts with
    the same word ("Question marks remain over the deal: ...") names nobody."""
    first, _, asker = label.partition(" ")
    words = asker.split()
    if not words or len(words) > _ASKER_MAX_WORDS or normalise_phrase(first) not in cr.question_labels:
        return False
    return (normalise_phrase(words[0]) in cr.question_links or any(ch.isupper() for ch in asker)
            or any(ch in _QUOTES for ch in asker))


def main_speaker(title: str, labelled: list[str], language: str, rules: ExtractionRules,
                 speaker: str | None = None) -> str | None:
    """Who gives the opening statement: a known main speaker named in the title,
    else the first named speaker of the page, else ``speaker`` (a corpus row's column),
    else the language's first main speaker."""
    known = compiled(rules).main_speakers
    for name in known:
        if name in title:
            return name
    for name in known:
        surname = name.split()[-1].split(".")[-1]
        if len(surname) > 3 and surname[:-1] in title:  # Lavrov's / Лаврова
            return name
    if labelled:
        return labelled[0]
    if speaker:
        return speaker
    lang = rules.languages.get(language)
    return lang.main_speakers[0] if lang and lang.main_speakers else None


def split_topics(paragraphs: list[str], headings: list[str], cr: CompiledRules) -> tuple[list[str], list[str | None]]:
    """The speech paragraphs without the topic headings, and the topic each stands under.

    A heading is a paragraph the layout marked as one (``headings``: the text of its
    ``headings`` elements) or one of the profile's ``topic_headings`` lines; a speaker's
    label is never one. Its text, as printed without a closing colon, is the topic."""
    marked = {normalise_phrase(h) for h in headings} | cr.topic_headings
    marked.discard("")
    longest = 2 * max(map(len, marked), default=0) + 8  # speech paragraphs are not normalised for nothing
    speech: list[str] = []
    topics: list[str | None] = []
    topic: str | None = None
    for paragraph in paragraphs:
        if (len(paragraph) <= longest and normalise_phrase(paragraph) in marked
                and speaker_of(paragraph, cr) is None):
            topic = paragraph.strip().rstrip(":").strip()
            continue
        speech.append(paragraph)
        topics.append(topic)
    return speech, topics


def split_turns(paragraphs: list[str], cr: CompiledRules, title: str, language: str,
                topics: list[str | None] | None = None, *, speaker: str | None = None) -> tuple[list[Turn], list[str]]:
    """Turns covering every paragraph in order, and the distinct named speakers.

    An unlabelled paragraph continues the current turn; before any label it
    belongs to the main speaker's opening statement. A named speaker's turn is
    an answer once a question has been asked, a statement before that. ``topics``
    (from ``split_topics``) gives each turn its topic: a new topic starts a new turn
    of the same speaker.
    """
    topics = topics or [None] * len(paragraphs)
    labels = [speaker_of(p, cr) for p in paragraphs]
    named = [lab[0] for lab in labels if lab and not lab[1] and lab[0]]
    opener = main_speaker(title, named, language, cr.rules, speaker) or (named[0] if named else "Speaker")
    turns: list[dict] = []
    asked = False
    for paragraph, label, topic in zip(paragraphs, labels, topics):
        if label is None:
            if not turns:
                turns.append({"speaker": opener, "role": "statement", "text": [paragraph], "topic": topic})
            elif turns[-1]["topic"] != topic:
                turns.append({**turns[-1], "text": [paragraph], "topic": topic})
            else:
                turns[-1]["text"].append(paragraph)
            continue
        name, is_question, rest = label
        asked = asked or is_question
        role = "question" if is_question else ("answer" if asked or name is None else "statement")
        name = name or opener  # "Answer:" names nobody: the main speaker answers
        turns.append({"speaker": name, "role": role, "text": [rest] if rest else [], "topic": topic})
    speakers: list[str] = []
    for turn in turns:
        if turn["role"] != "question" and turn["speaker"] not in speakers:
            speakers.append(turn["speaker"])
    ids = {name: speaker_key(name, cr.rules) for name in speakers}
    result = [Turn(speaker=t["speaker"], role=t["role"], text="\n\n".join(t["text"]), topic=t["topic"],
                   speaker_id=None if t["role"] == "question" else ids[t["speaker"]]) for t in turns]
    return result, speakers
