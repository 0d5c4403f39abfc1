"""Read side of the index: full-text search with filters, and counts under any query.

Reads the alias (settings.index_alias, or ``--index``) and the dead-letter index;
writes nothing. A query with a speaker or a role asks the nested ``turns``:
"answers by Sergey Lavrov that mention NATO" matches turns where all three hold
in the same turn, and the matching turns come back with each hit (inner_hits),
with their total and the matching words highlighted.

Dates given as days are Moscow calendar days, both ends included (the site dates
its pages in Moscow time); a datetime is an exact instant. Month buckets are
Moscow months. A speaker is found by any printed form of the name or its surname,
in any language, through the profile's ``speakers`` list (``Speaker.id`` is what a
stored canonical id will match once records carry one); a section by its profile
name (``minister_speeches``) or any printed title; a kind (speech, briefing...) among
those the profile's sections publish.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Iterator, get_args

from elasticsearch import Elasticsearch

from pipeline.model.records import MOSCOW, Role
from pipeline.profile import fold_name
from pipeline.settings import DEFAULT_CONFIG_DIR, Settings

if TYPE_CHECKING:
    from pipeline.profile import SiteProfile

ROLES: tuple[str, ...] = get_args(Role)
TIME_ZONE = "Europe/Moscow"  # Moscow has kept UTC+03:00 since 2014: the same as records.MOSCOW
# stats --by: the field each dimension groups on (speaker and role group turns, the rest documents)
BY_FIELDS = {"month": "published_at", "year": "published_at", "section": "section", "kind": "kind",
             "language": "language", "place": "location", "speaker": "turns.speaker", "role": "turns.role"}
COUNTS = ("documents", "turns", "questions")
MAX_TURNS = 100  # Elasticsearch's default index.max_inner_result_window

# Document-level text fields with their boosts; turn text is searched inside the nested turns.
BASE_TEXT_FIELDS = {"title": 2, "body": 1}
TURN_TEXT_FIELD = "turns.text"


def _with_language_subfields(fields: dict[str, int], config_dir: Path | None, language: str | None = None) -> list[str]:
    """The fields plus their language sub-fields from the overlay (``title.en``...): only the
    asked language's when it has sub-fields, every language's when none is asked.

    The base field (standard analyzer) stays in the list: an exact form then scores above
    another form of the word that only the language sub-field matches.
    """
    from pipeline.store.design import OVERLAY_FILE, load_config_json

    overlay = load_config_json(config_dir or DEFAULT_CONFIG_DIR, OVERLAY_FILE)["fields"]
    names: list[str] = []
    for name, boost in fields.items():
        suffix = f"^{boost}" if boost != 1 else ""
        names.append(name + suffix)
        subs = [sub for sub in overlay.get(name, {}) if language is None or sub == language]
        names += [f"{name}.{sub}{suffix}" for sub in subs]
    return names


def text_fields(config_dir: Path | None = None, language: str | None = None) -> list[str]:
    return _with_language_subfields(BASE_TEXT_FIELDS, config_dir, language)


def turn_text_fields(config_dir: Path | None = None, language: str | None = None) -> list[str]:
    return _with_language_subfields({TURN_TEXT_FIELD: 1}, config_dir, language)


# A bare word of the query: letters (a hyphen inside), no operator or wildcard of the user's on
# it, not part of a name with dots or slashes (mid.ru) or an apostrophe (Lavrov's).
_BARE_WORD = re.compile(r"(?<![\w*~'’.@/])([^\W\d_](?:[^\W\d_]|-(?=[^\W\d_]))*)(?![\w*~'’.@/])")
_CYRILLIC_WORD = re.compile(r"[А-Яа-яЁё][А-Яа-яЁё-]{3,}")  # also taken as a prefix
# A word of FUZZY_MIN_LETTERS letters or more also matches the terms one edit away that begin with
# its first FUZZY_PREFIX_LENGTH letters (Levenshtein with transpositions).
FUZZY_MIN_LETTERS = 5
FUZZY_PREFIX_LENGTH = 3
# Sub-fields whose terms are Porter stems of Latin words: a typed word one edit from a stem is not
# one edit from a word (``Makei`` from ``make``, the stem of ``making``), so a word standing alone
# in the query is not taken one edit away there (text_clause). The ``.ru`` stems need it (посол:
# посл of послов), and the russian analyzer leaves Latin words whole.
STEMMED_LATIN_SUBFIELDS = (".en",)


def analyst_query(text: str, stems: dict[str, list[str]] | None = None, *, fuzzy: bool = True) -> str:
    """What the user typed, in simple_query_string syntax, with each bare word of five letters or
    more also taken one edit away (``посол`` -> ``посол~1``), and each bare Russian word also as a
    prefix (``Лавров`` -> ``(Лавров | Лавров* | Лавров~1)``) and in the forms ``stems`` gives it (from
    its stem: ``Беларуси`` -> ``беларус*``, ``Лаврова`` -> ``лавров``; stem_alternatives), outside
    quoted phrases (a phrase stays exact).

    Why the prefix: the Snowball stemmer of the ``russian`` analyzer reads a surname's ``-ов`` as a
    plural ending (Лавров -> лавр, but Лаврова, Лавровым -> лавров), so the stems alone miss the
    other cases of a name; the prefix finds every case of the typed form. Why one edit: where the
    stems of two forms of a word differ by a letter, which no algorithmic stemmer joins: a fleeting
    vowel (посол; послов -> посл), a name in ``-ей`` (Макей -> мак; Макеем -> маке), an English
    derivation Porter keeps apart (terrorist; terrorism), a place's adjective (Transnistria;
    Transnistrian). The first letters stay fixed (FUZZY_PREFIX_LENGTH): ``election`` does not
    find ``selection``. The exact and stemmed forms still match the typed word itself, so they
    score above a form only one edit finds. ``fuzzy=False``: without the one-edit forms (text_clause
    adds a standing-alone word's own, off the stemmed English fields).
    """
    stems = stems or {}

    def expand(m: re.Match) -> str:
        word = m.group(1)
        alternatives = [word]
        if _CYRILLIC_WORD.fullmatch(word):
            alternatives += [f"{word}*", *stems.get(word.lower(), [])]
        if fuzzy and _one_edit(word):
            alternatives.append(f"{word}~1")
        return word if len(alternatives) == 1 else "(" + " | ".join(alternatives) + ")"

    parts = text.split('"')
    for i in range(0, len(parts), 2):  # even parts lie outside quotes
        parts[i] = _BARE_WORD.sub(expand, parts[i])
    return '"'.join(parts)


# The endings of Russian surnames that Snowball cuts from the nominative as if they were case
# endings (Лавров -> лавр, Рябков -> рябк, but Лаврова -> лавров).
_SURNAME_STEM = re.compile(r"(ов|ев|ёв|ин|ын)$")


def stem_alternatives(es: Elasticsearch, index: str, text: str | None) -> dict[str, list[str]]:
    """For each bare Russian word of ``text``: other ways to ask for it, from its ``russian`` stem.
    One small request per word; none for a query without Russian words.

    - the stem as a prefix, when long enough to mean something and not the word itself:
      ``Беларуси`` -> ``беларус*``, which finds ``Беларусь``, whose Snowball stem differs;
    - the stem as a word, when it ends like a surname (``-ов``, ``-ев``, ``-ин``): ``Лаврова`` ->
      ``лавров``, the nominative, which the ``.ru`` sub-fields stem as the documents that print only
      ``Лавров`` have it (лавр).

    Names printed with initials (``С.В.Лаврова``) need nothing here: the ``.ru`` sub-fields'
    analyzer parts the initials from the surname (``russian_initials`` in the overlay)."""
    words = {m.group(1).lower() for part in (text or "").split('"')[::2] for m in _BARE_WORD.finditer(part)
             if _CYRILLIC_WORD.fullmatch(m.group(1))}
    out: dict[str, list[str]] = {}
    for word in sorted(words):
        tokens = es.indices.analyze(index=index, analyzer="russian", text=word).body.get("tokens", [])
        stem = tokens[0]["token"] if tokens else ""
        if len(stem) < 5 or stem == word:
            continue
        alternatives = [] if word.startswith(stem + stem[-1:]) else [f"{stem}*"]
        alternatives += [stem] if _SURNAME_STEM.search(stem) else []
        if alternatives:
            out[word] = alternatives
    return out


def _one_edit(word: str) -> bool:
    return word.isalpha() and len(word) >= FUZZY_MIN_LETTERS


# A bare word standing alone at the top level of the query: after a space (or first), maybe
# required (+) or excluded (-), before a space (or last).
_ALONE = re.compile(r"(?:(?<=\s)|^)([+-]?)([^\W\d_]+)(?=\s|$)")


def _alone(text: str) -> list[re.Match]:
    """The bare words of ``text`` that are conditions of their own: outside quotes and groups,
    not beside a ``|`` (each ANDed, or excluded with ``-``)."""
    out = []
    for m in _ALONE.finditer(text):
        before = text[:m.start()]
        quoted = before.count('"') % 2 == 1
        depth = before.count("(") - before.count(")")
        beside_or = before.rstrip().endswith("|") or text[m.end():].lstrip().startswith("|")
        if not quoted and depth <= 0 and not beside_or and _one_edit(m.group(2)):
            out.append(m)
    return out


def _simple(query: str, fields: list[str]) -> dict:
    return {"simple_query_string": {"query": query, "fields": fields, "default_operator": "and",
                                    "fuzzy_prefix_length": FUZZY_PREFIX_LENGTH}}


def text_clause(text: str, fields: list[str], stems: dict[str, list[str]] | None = None) -> dict:
    """The words as analysts type them: every word must match (AND), ``"..."`` a phrase,
    ``-word`` excludes, ``a | b`` either, ``sanct*`` a prefix (Elasticsearch simple_query_string).

    A word standing alone (``_alone``) is a clause of its own, so its one-edit form can skip the
    stemmed English fields (STEMMED_LATIN_SUBFIELDS), which simple_query_string cannot do for one
    term; a word inside a group, an alternative or a phrase stays in the one query string."""
    edit_fields = [f for f in fields if not f.split("^")[0].endswith(STEMMED_LATIN_SUBFIELDS)]
    must, must_not, rest, end = [], [], [], 0
    for m in _alone(text):
        sign, word = m.group(1), m.group(2)
        either = {"bool": {"should": [_simple(analyst_query(word, stems, fuzzy=False), fields),
                                      _simple(f"{word}~1", edit_fields)], "minimum_should_match": 1}}
        (must_not if sign == "-" else must).append(either)
        rest.append(text[end:m.start()])
        end = m.end()
    rest = "".join(rest) + text[end:]
    if rest.strip():
        must.append(_simple(analyst_query(rest, stems), fields))
    if len(must) == 1 and not must_not:
        return must[0]
    return {"bool": {"must": must, "must_not": must_not}}


def highlight_fields(names: list[str], *, fragments: int) -> dict:
    """Highlights of the base field that mark the form a language sub-field matched
    (``санкциями`` for a query ``санкции``): the unified highlighter's matched_fields."""
    out = {}
    for name in names:
        subs = [f"{name}.{sub}" for sub in ("en", "ru")]
        out[name] = {"number_of_fragments": fragments, "matched_fields": [name, *subs]}
    return out


@dataclass
class Hit:
    doc_id: str
    score: float | None
    title: str | None  # None: an untitled record (flags: no_title)
    published_at: str
    url: str | None
    section: str | None
    language: str
    kind: str | None = None
    event_id: str | None = None
    turns: list[dict] = field(default_factory=list)
    turns_total: int = 0
    highlights: list[str] = field(default_factory=list)


# ---- what the user typed -> what the index holds -----------------------------

_fold = fold_name  # case, accents and apostrophe forms folded: the profile's one rule


def _surname(name: str) -> str:
    return name.replace(".", " ").split()[-1]


@dataclass(frozen=True)
class SpeakerMatch:
    """The printed forms a ``--speaker`` stands for, the surnames matched inside other forms, and
    the stored ids (``turns.speaker_id``) it names: exact ids, and surname keys (``riabkov``)
    that match every id of that surname (``riabkov-s``)."""

    asked: str
    forms: tuple[str, ...]
    surnames: tuple[str, ...] = ()
    speaker_id: str | None = None  # the profile's person, when the name is one of the profile's
    ids: tuple[str, ...] = ()
    id_surnames: tuple[str, ...] = ()

    def clause(self) -> dict:
        """A query on the nested turn's speaker: any listed form or id, or a form holding a surname."""
        should: list[dict] = [{"terms": {"turns.speaker.lower": [f.lower() for f in self.forms]}}]
        ids = sorted({i for i in (self.speaker_id, *self.ids) if i})
        if ids:
            should.append({"terms": {"turns.speaker_id": ids}})
        should += [{"prefix": {"turns.speaker_id": f"{s}-"}} for s in self.id_surnames]
        should += [{"wildcard": {"turns.speaker.lower": {"value": f"*{s.lower()}*"}}} for s in self.surnames]
        return {"bool": {"should": should, "minimum_should_match": 1}}


def resolve_speaker(asked: str, profile: "SiteProfile | None" = None, *, key: str | None = None) -> SpeakerMatch:
    """The speaker ``asked`` names: an id, a printed form or a surname of a profile speaker;
    anything else is matched as written (and as a part of longer forms), as a stored id, and by
    ``key``, the id extraction gives that name (``Sergey Ryabkov`` and ``Рябков`` -> ``riabkov-s``,
    ``riabkov``: a surname alone matches every ``riabkov-*``)."""
    folded = _fold(asked)
    # One table of people for the whole project: the one extraction stamps speaker_id from.
    for person_id, names in (profile.extraction.speakers.items() if profile else []):
        if folded in {_fold(n) for n in [person_id, *names]} | {_fold(_surname(n)) for n in names}:
            surnames = tuple(sorted({_surname(n) for n in names}))
            return SpeakerMatch(asked, tuple(names), surnames, person_id)
    ids = tuple(dict.fromkeys(i for i in (asked.strip().lower(), key) if i))
    id_surnames = (key,) if key and "-" not in key else ()
    return SpeakerMatch(asked, (asked,), (asked,) if " " not in asked.strip() else (), ids=ids,
                        id_surnames=id_surnames)


def section_choices(profile: "SiteProfile") -> list[str]:
    """Every value --section takes: the profile's section names, then the printed titles."""
    names = [s.name for s in profile.crawl.sections]
    titles = {t for s in profile.crawl.sections for t in s.titles}
    titles |= {t for rules in profile.extraction.all_languages() for t in rules.sections}
    return names + sorted(titles - set(names))


def resolve_section(asked: str, profile: "SiteProfile") -> list[str]:
    """The stored values one ``--section`` stands for; ValueError naming the choices when none."""
    section = profile.crawl.section_named(asked)
    if section is not None:
        return [section.name, *section.titles]
    key = _fold(asked)
    printed = [t for t in section_choices(profile) if _fold(t) == key]
    if printed:
        return printed
    raise ValueError(f"unknown section {asked!r}; choose one of: {', '.join(section_choices(profile))}")


MISSING = "(none)"  # the bucket key of documents without the field (``missing`` of a terms aggregation)


def section_label(stored: str | None, language: str | None, profile: "SiteProfile") -> str | None:
    """The one name printed for a stored section value (a profile name or any printed title), in
    ``language`` (English when the profile has no label in it): the profile's section ``labels``.
    ``Ministers’ speeches``, ``archive_minister_speeches`` -> ``Minister's speeches``; the
    ``MISSING`` bucket -> the profile's ``unknown_labels``."""
    if stored == MISSING:
        return missing_label("section", language, profile)
    section = profile.crawl.section_named(stored)
    if section is None or not section.labels:
        return stored
    return _in_language(section.labels, language) or stored


def kind_label(kind: str | None, language: str | None, profile: "SiteProfile") -> str | None:
    """The one name printed for a kind in ``language`` (the profile's ``crawl.kind_labels``; the
    ``MISSING`` bucket: its ``unknown_labels``)."""
    if kind == MISSING:
        return missing_label("kind", language, profile)
    return _in_language(profile.crawl.kind_labels.get(kind or "", {}), language) or kind


def missing_label(field: str, language: str | None, profile: "SiteProfile") -> str:
    """The one name printed for the documents without ``field`` (a ``--by`` name): the profile's
    ``crawl.unknown_labels`` in ``language``, else the bare ``MISSING`` bucket key."""
    return _in_language(profile.crawl.unknown_labels.get(field, {}), language) or MISSING


def labelled_missing(buckets: dict[str, int], field: str, language: str | None,
                     profile: "SiteProfile") -> dict[str, int]:
    """Counts per stored value with the ``MISSING`` bucket named by ``missing_label``."""
    return {(missing_label(field, language, profile) if key == MISSING else key): value
            for key, value in buckets.items()}


def _in_language(labels: dict[str, str], language: str | None) -> str | None:
    return labels.get(language or "en") or labels.get("en")


def labelled_sections(buckets: dict[str, int], language: str | None, profile: "SiteProfile") -> dict[str, int]:
    """Counts per stored section value merged into one bucket per printed label."""
    out: dict[str, int] = {}
    for key, value in buckets.items():
        label = section_label(key, language, profile) or key
        out[label] = out.get(label, 0) + value
    return dict(sorted(out.items(), key=lambda kv: -kv[1]))


def kind_choices(profile: "SiteProfile") -> list[str]:
    """Every value --kind takes: the kinds the profile's sections publish, in the record's order."""
    from pipeline.profile import KINDS

    used = {s.kind for s in profile.crawl.sections}
    return [k for k in KINDS if k in used]


def moscow_range(date_from: date | datetime | str | None, date_to: date | datetime | str | None) -> dict:
    """A ``published_at`` range: days are Moscow calendar days, both included; datetimes are instants."""
    bounds: dict[str, str] = {}
    if date_from:
        bounds["gte"] = _instant(date_from, end=False)
    if date_to:
        key = "lte" if isinstance(date_to, (datetime, str)) else "lt"
        bounds[key] = _instant(date_to, end=True)
    return bounds


def _instant(value: date | datetime | str, *, end: bool) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    day = value + timedelta(days=1) if end else value  # the end of a day is the start of the next
    return datetime.combine(day, time(), tzinfo=MOSCOW).isoformat()


def _date(value: date | datetime | str | None) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return value.isoformat()


# ---- queries -----------------------------------------------------------------

def turn_clauses(text: str | None, *, speaker: str | SpeakerMatch | None, role: str | None,
                 config_dir: Path | None, language: str | None = None,
                 stems: dict[str, list[str]] | None = None) -> list[dict]:
    """What one turn must hold: the words, the speaker, the role."""
    clauses: list[dict] = []
    if text:
        clauses.append(text_clause(text, turn_text_fields(config_dir, language), stems))
    if speaker:
        match = speaker if isinstance(speaker, SpeakerMatch) else SpeakerMatch(speaker, (speaker,))
        clauses.append(match.clause())
    if role:
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}; choose one of: {', '.join(ROLES)}")
        clauses.append({"term": {"turns.role": role}})
    return clauses


def document_filters(*, date_from=None, date_to=None, section: str | list[str] | None = None,
                     language: str | None = None, kind: str | None = None, event: str | None = None) -> list[dict]:
    filters: list[dict] = []
    if event:  # the language versions of one event (pipeline.model.ids: event_id)
        filters.append({"term": {"event_id": event}})
    if date_from or date_to:
        filters.append({"range": {"published_at": moscow_range(date_from, date_to)}})
    if section:
        filters.append({"terms": {"section": [section] if isinstance(section, str) else list(section)}})
    if language:
        filters.append({"term": {"language": language}})
    if kind:
        filters.append({"term": {"kind": kind}})
    return filters


def build_query(
    text: str | None = None,
    *,
    speaker: str | SpeakerMatch | None = None,
    role: str | None = None,
    date_from: date | datetime | str | None = None,
    date_to: date | datetime | str | None = None,
    section: str | list[str] | None = None,
    language: str | None = None,
    kind: str | None = None,
    event: str | None = None,
    max_turns: int = 5,
    highlight: bool = False,
    config_dir: Path | None = None,
    stems: dict[str, list[str]] | None = None,
) -> dict:
    """The bool query for these filters; speaker/role make the text match inside one turn.

    ``config_dir``: where the language overlay naming the sub-fields is (default: the project's config/).
    """
    filters = document_filters(date_from=date_from, date_to=date_to, section=section, language=language, kind=kind,
                               event=event)
    must: list[dict] = []
    if speaker or role:
        inner: dict = {"size": max_turns, "_source": ["turns.speaker", "turns.role", "turns.text"]}
        if highlight and text:
            inner["highlight"] = {"fields": highlight_fields([TURN_TEXT_FIELD], fragments=3)}
        must.append({"nested": {
            "path": "turns", "score_mode": "max",
            "query": {"bool": {"must": turn_clauses(text, speaker=speaker, role=role, config_dir=config_dir,
                                                    language=language, stems=stems)}},
            "inner_hits": inner,
        }})
    elif text:
        must.append(text_clause(text, text_fields(config_dir, language), stems))
    if not must:
        must.append({"match_all": {}})
    return {"bool": {"must": must, "filter": filters}}


MAX_WINDOW = 10_000  # Elasticsearch's default index.max_result_window: from + size of one request
EXPORT_PAGE = 1_000  # documents per request of an export
HIT_SOURCE = ["title", "published_at", "url", "section", "language", "kind", "event_id"]
SORT = ["_score", {"published_at": "desc"}]


def _request(text: str | None, highlight: bool, filters: dict) -> dict:
    """The search body for ``text`` and the filters of build_query (query, highlights, source, sort)."""
    body: dict = {"query": build_query(text, highlight=highlight, **filters), "source": HIT_SOURCE, "sort": SORT}
    if highlight and text and not (filters.get("speaker") or filters.get("role")):
        body["highlight"] = {"fields": {**highlight_fields(["body"], fragments=3),
                                        **highlight_fields(["title"], fragments=0)}}
    return body


def _hit(h: dict) -> Hit:
    src = h["_source"]
    inner = h.get("inner_hits", {}).get("turns", {}).get("hits", {})
    turns = [{**t["_source"], **({"highlights": t["highlight"]["turns.text"]} if "highlight" in t else {})}
             for t in inner.get("hits", [])]
    marks = [frag for frags in h.get("highlight", {}).values() for frag in frags]
    return Hit(doc_id=h["_id"], score=h.get("_score"), title=src["title"], published_at=src["published_at"],
               url=src.get("url"), section=src.get("section"), language=src["language"],
               kind=src.get("kind"), event_id=src.get("event_id"), turns=turns,
               turns_total=inner.get("total", {}).get("value", 0), highlights=marks)


def search(es: Elasticsearch, index: str, text: str | None = None, *, size: int = 10, offset: int = 0,
           highlight: bool = True, **filters) -> tuple[int, list[Hit]]:
    """(total matching documents, ``size`` hits from ``offset``) for ``text`` and the filters of build_query.

    One request: ``offset + size`` may not pass MAX_WINDOW (ValueError); ``search_all`` reads every match.
    """
    if offset + size > MAX_WINDOW:
        raise ValueError(f"one page reaches at most document {MAX_WINDOW:,} (asked: {offset + 1:,}-{offset + size:,}); "
                         "export every match with --format csv or --format json")
    filters.setdefault("stems", stem_alternatives(es, index, text))
    resp = es.search(index=index, size=size, from_=offset, track_total_hits=True,
                     **_request(text, highlight, filters)).body
    return resp["hits"]["total"]["value"], [_hit(h) for h in resp["hits"]["hits"]]


def search_all(es: Elasticsearch, index: str, text: str | None = None, *, page_size: int = EXPORT_PAGE,
               highlight: bool = False, **filters) -> tuple[int, Iterator[Hit]]:
    """(total, every matching hit in search order), read page by page through a point in time
    with ``search_after``, so an export is never cut at the result window and sees one
    consistent view of the index while it streams. The point in time is closed when the
    iterator ends or is closed."""
    filters.setdefault("stems", stem_alternatives(es, index, text))
    body = _request(text, highlight, filters)
    pit = es.open_point_in_time(index=index, keep_alive="2m").body["id"]
    try:
        first = es.search(pit={"id": pit, "keep_alive": "2m"}, size=page_size, track_total_hits=True, **body).body
    except BaseException:
        es.close_point_in_time(id=pit)
        raise

    def pages() -> Iterator[Hit]:
        nonlocal pit
        resp = first
        try:
            while True:
                hits = resp["hits"]["hits"]
                yield from (_hit(h) for h in hits)
                if len(hits) < page_size:
                    return
                pit = resp.get("pit_id", pit)
                resp = es.search(pit={"id": pit, "keep_alive": "2m"}, size=page_size, track_total_hits=False,
                                 search_after=hits[-1]["sort"], **body).body
        finally:
            es.close_point_in_time(id=resp.get("pit_id", pit))

    return first["hits"]["total"]["value"], pages()


# ---- counts ------------------------------------------------------------------

def _bucket_agg(by: str, *, gaps: bool = True) -> dict:
    """The aggregation of one ``--by``; months and years come as a series from the first to the last,
    the empty ones as 0 (``gaps=False``: the non-empty ones only, for the one-line summary)."""
    if by in ("month", "year"):
        return {"date_histogram": {"field": "published_at", "calendar_interval": by, "time_zone": TIME_ZONE,
                                   "format": "yyyy-MM" if by == "month" else "yyyy",
                                   "min_doc_count": 0 if gaps else 1}}
    return {"terms": {"field": BY_FIELDS[by], "size": 1000, "missing": MISSING}}


def count_by(es: Elasticsearch, index: str, text: str | None = None, *, by: str = "month",
             count: str = "documents", speaker: str | SpeakerMatch | None = None, role: str | None = None,
             people: list[SpeakerMatch] | None = None, config_dir: Path | None = None, **doc_filters) -> dict:
    """``{bucket: count}`` of documents, turns or questions matching the query, grouped ``by``.

    Documents match as ``search`` has them. Turns and questions are counted one by one:
    those that hold the words, the speaker and the role (questions: role question).
    Speaker and role buckets group turns; a document counts once per bucket it has turns in.
    With ``people`` (the profile's speakers), the printed forms of one person make one
    bucket, named by the person's first form (Sergey Lavrov = С.В.Лавров = Сергей Лавров).
    """
    if by not in BY_FIELDS:
        raise ValueError(f"unknown --by {by!r}; choose one of: {', '.join(BY_FIELDS)}")
    if count not in COUNTS:
        raise ValueError(f"unknown --count {count!r}; choose one of: {', '.join(COUNTS)}")
    stems = doc_filters.pop("stems", None) or stem_alternatives(es, index, text)
    query = build_query(text, speaker=speaker, role=role, config_dir=config_dir, stems=stems, **doc_filters)
    for clause in query["bool"]["must"]:  # the counts need no turns back
        clause.get("nested", {}).pop("inner_hits", None)
    turn_role = "question" if count == "questions" else role
    turn_filter = {"bool": {"must": turn_clauses(text, speaker=speaker, role=turn_role, config_dir=config_dir,
                                                 language=doc_filters.get("language"), stems=stems)
                            or [{"match_all": {}}]}}
    if by in ("speaker", "role"):
        return _count_turn_buckets(es, index, query, turn_filter, by=by, count=count,
                                   people=people if by == "speaker" else None)
    sub = {} if count == "documents" else {"turns": {"nested": {"path": "turns"},
                                                     "aggs": {"match": {"filter": turn_filter}}}}
    resp = es.search(index=index, query=query, size=0, aggs={"by": {**_bucket_agg(by), "aggs": sub}}).body
    out = {}
    for b in resp["aggregations"]["by"]["buckets"]:
        key = b.get("key_as_string", b["key"])
        out[str(key)] = b["doc_count"] if count == "documents" else b["turns"]["match"]["doc_count"]
    return out


def _count_turn_buckets(es: Elasticsearch, index: str, query: dict, turn_filter: dict, *, by: str, count: str,
                        people: list[SpeakerMatch] | None) -> dict:
    """Buckets of matching turns by role, or by speaker: one bucket per person.

    A speaker is grouped by the id extraction stamped on the turn (``speaker_id``: Sergey Ryabkov
    = С.А.Рябков), labelled with its most frequent printed name; a profile person (``people``)
    by every printed form and id of theirs, labelled with the profile's first form; a turn
    without an id (a question) by its printed name."""
    leaf = {"docs": {"reverse_nested": {}}} if count == "documents" else {}
    if by == "role":
        inner: dict = {"by": {**_bucket_agg(by), "aggs": leaf}}
    else:
        inner = {
            "ids": {"terms": {"field": "turns.speaker_id", "size": 1000},
                    "aggs": {**leaf, "name": {"terms": {"field": "turns.speaker", "size": 1}}}},
            "by": {"filter": {"bool": {"must_not": {"exists": {"field": "turns.speaker_id"}}}},
                   "aggs": {"names": {**_bucket_agg(by), "aggs": leaf}}},
        }
        if people:
            inner["people"] = {"filters": {"filters": {p.forms[0]: p.clause() for p in people}}, "aggs": leaf}
    aggs = {"turns": {"nested": {"path": "turns"}, "aggs": {"match": {"filter": turn_filter, "aggs": inner}}}}
    found = es.search(index=index, query=query, size=0, aggs=aggs).body["aggregations"]["turns"]["match"]

    def value(bucket: dict) -> int:
        return bucket["docs"]["doc_count"] if count == "documents" else bucket["doc_count"]

    if by == "role":
        return {str(b["key"]): value(b) for b in found["by"]["buckets"]}
    people = people or []
    person_ids = {p.speaker_id for p in people}
    out = {name: value(b) for name, b in found.get("people", {}).get("buckets", {}).items() if value(b)}
    for b in found["ids"]["buckets"]:
        label = b["name"]["buckets"][0]["key"] if b["name"]["buckets"] else b["key"]
        if b["key"] not in person_ids and not any(_matches(p, label) for p in people):
            out[label] = out.get(label, 0) + value(b)
    for b in found["by"]["names"]["buckets"]:
        if not any(_matches(p, str(b["key"])) for p in people):
            out[str(b["key"])] = out.get(str(b["key"]), 0) + value(b)
    return dict(sorted(out.items(), key=lambda kv: -kv[1]))


def _matches(person: SpeakerMatch, printed: str) -> bool:
    """Whether a stored speaker name is one ``person.clause()`` matches (the same rule, in Python)."""
    low = printed.lower()
    return low in {f.lower() for f in person.forms} or any(s.lower() in low for s in person.surnames)


def stats(es: Elasticsearch, settings: Settings, *, alias: str | None = None) -> dict:
    """Document counts per section, kind, language and Moscow month; dead letters per stage; what the alias
    points at."""
    alias = alias or settings.index_alias
    out: dict = {"alias": alias, "indices": [], "total": 0, "by_section": {}, "by_kind": {}, "by_language": {},
                 "by_month": {}, "deadletters": 0, "deadletters_by_stage": {}}
    if es.indices.exists_alias(name=alias) or es.indices.exists(index=alias):
        out["indices"] = (sorted(es.indices.get_alias(name=alias).body) if es.indices.exists_alias(name=alias)
                          else [alias])
        resp = es.search(index=alias, size=0, track_total_hits=True, aggs={
            "by_section": {"terms": {"field": "section", "size": 50, "missing": MISSING}},
            "by_kind": _bucket_agg("kind"),
            "by_language": {"terms": {"field": "language", "size": 20}},
            "by_month": _bucket_agg("month", gaps=False),
        }).body
        out["total"] = resp["hits"]["total"]["value"]
        aggs = resp["aggregations"]
        out["by_section"] = {b["key"]: b["doc_count"] for b in aggs["by_section"]["buckets"]}
        out["by_kind"] = {b["key"]: b["doc_count"] for b in aggs["by_kind"]["buckets"]}
        out["by_language"] = {b["key"]: b["doc_count"] for b in aggs["by_language"]["buckets"]}
        out["by_month"] = {b["key_as_string"]: b["doc_count"] for b in aggs["by_month"]["buckets"]}
    if es.indices.exists(index=settings.deadletter_index):
        resp = es.search(index=settings.deadletter_index, size=0, track_total_hits=True,
                         aggs={"by_stage": {"terms": {"field": "stage", "size": 20}}}).body
        out["deadletters"] = resp["hits"]["total"]["value"]
        out["deadletters_by_stage"] = {b["key"]: b["doc_count"] for b in resp["aggregations"]["by_stage"]["buckets"]}
    return out
