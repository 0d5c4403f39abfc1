"""The site profile: everything specific to mid.ru, loaded from config/site.yaml.

Selectors, URL patterns and boilerplate phrases are data, so an operator can
follow a layout change by editing YAML, not code. This module only defines the
shape (pydantic models) and loads it; the stages read what they need from it.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from pathlib import Path
from re import Pattern
from typing import Annotated, Literal, get_args
from urllib.parse import urlsplit

import yaml
from cssselect import SelectorError
from lxml.cssselect import CSSSelector
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from pipeline.model.errors import ConfigError
from pipeline.model.records import Kind


@lru_cache(maxsize=1024)
def compiled_selector(selector: str) -> CSSSelector:
    """A CSS selector as the XPath lxml runs, compiled once per process: the profile's are
    compiled when it loads (``_compiles``), and every reader of pages (extraction, the
    crawl's blocked-page check) looks them up here instead of compiling them per page.
    Raises cssselect's SelectorError for a bad selector."""
    return CSSSelector(selector, translator="html")


def _compiles(selector: str) -> str:
    """A CSS selector of the profile, compiled once at load: a typo is a load-time error
    naming the selector, not one dead letter per page."""
    try:
        compiled_selector(selector)
    except SelectorError as exc:
        raise ValueError(f"bad CSS selector {selector!r}: {exc}") from None
    return selector


Css = Annotated[str, AfterValidator(_compiles)]

# The tags a chrome block may have: elements whose end tag the parser honours whatever is left
# open inside (extract/precut.py leaves a block's content out by bytes; its tests check these).
CHROME_BLOCK_TAGS = frozenset({"header", "footer", "nav", "aside", "section", "div"})


def _block_start(text: str) -> str:
    """A chrome block as the page writes its start tag, up to the end of an attribute:
    ``<header class="header"`` (extract/precut.py)."""
    name = text[1:].split(None, 1)[0] if text.startswith("<") and len(text) > 1 else ""
    if not name.isascii() or not name.replace("-", "").isalnum() or not name[0].isalpha():
        raise ValueError(f"chrome block {text!r}: not the start of a start tag ('<header class=\"header\"')")
    if name.lower() not in CHROME_BLOCK_TAGS or text.endswith(">") or "<" in text[1:]:
        raise ValueError(f"chrome block {text!r}: not the start tag (without its '>') of one of "
                         f"{sorted(CHROME_BLOCK_TAGS)}")
    return text


BlockStart = Annotated[str, AfterValidator(_block_start)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class IdentityRule(_Strict):
    """Where a URL path names an article: one number space per ``namespace``."""

    namespace: str
    pattern: Pattern[str] = Field(description="regex on the URL path; group 'id' is the article id")


class SiteInfo(_Strict):
    name: str
    base_url: str
    hosts: list[str]
    default_language: str = "en"
    # An article reached under several section paths or language prefixes is one article:
    # the first rule whose pattern matches the path gives (namespace, id) (pipeline/model/ids.py).
    identity: list[IdentityRule] = Field(default_factory=list)


class LanguageRules(_Strict):
    """What the site prints in one language: months, sections, labels, boilerplate."""

    # Every form a month name takes (nominative, genitive, short), lower-case -> 1..12.
    months: dict[str, int] = Field(default_factory=dict)
    # Words that may follow a date and belong to it ("года", "г.").
    date_suffixes: list[str] = Field(default_factory=list)
    sections: list[str] = Field(default_factory=list)
    # Whole lines that are never speech: search-form remnants, album captions, headers.
    boilerplate_lines: list[str] = Field(default_factory=list)
    boilerplate_patterns: list[Pattern[str]] = Field(default_factory=list)
    # Lines that open a listing (embassy contacts, country tags): everything up to the
    # next line that reads like prose is dropped.
    listing_starts: list[str] = Field(default_factory=list)
    # Field labels of a contact listing ("Adresse :", "Phone:"); also open a listing.
    contact_labels: list[str] = Field(default_factory=list)
    question_labels: list[str] = Field(default_factory=list)
    # Words that link a question label to who asks ("Question from Reuters", "Вопрос от ТАСС").
    question_links: list[str] = Field(default_factory=list)
    # Labels of an answer that name nobody ("Answer:", "Ответ:" in briefings): the main speaker's turn.
    answer_labels: list[str] = Field(default_factory=list)
    # Titles and honorifics printed before a speaker's name ("Foreign Minister", "Mr"): no part of it.
    speaker_titles: list[str] = Field(default_factory=list)
    main_speakers: list[str] = Field(default_factory=list)
    # Words of the site's menus and captions beyond the whole phrases above ("gallery",
    # "options"): a short line made mostly of these words (and of the phrases' words) is chrome.
    chrome_words: list[str] = Field(default_factory=list)
    # The site's name as a page's <title> ends with it ("... - Министерство иностранных дел
    # Российской Федерации"): taken off the end of any title, so the place and date before it read.
    site_names: list[str] = Field(default_factory=list)
    # Notes such as "Unofficial translation from Russian": a record field, never body text.
    translation_notes: list[str] = Field(default_factory=list)
    # Whole lines that head a part of a transcript whatever their markup ("Answers to media
    # questions:" in a briefing): the topic of the turns after them, never speech.
    topic_headings: list[str] = Field(default_factory=list)
    # Frequent short words, to tell the languages written in Latin script apart.
    stopwords: list[str] = Field(default_factory=list)


class TextPatterns(_Strict):
    """Regular expressions for the metadata lines of a page (full-line matches)."""

    # "1 December 202019:32", "18 ноября 2019 года, 19:46", "18.06.2021 15:45"
    date_time: Pattern[str]
    time_only: Pattern[str]
    doc_number: Pattern[str]
    # The same number found inside any line of the article head ("№ 2393-18-11-2019"); its
    # groups day, month and year (when it has them) date a page that prints no other date.
    doc_number_search: Pattern[str] | None = None
    # "1 of 12 photos in album", "3 из 7": a counter line of a gallery or a pager, any language.
    counter_line: Pattern[str] | None = None
    # "  • de-DE1 en-GB1 ru-RU1"; language_code picks the 2-letter codes out of it.
    languages_line: Pattern[str]
    language_code: Pattern[str]
    # Dates inside a title or a date element: day-month-year and month-day-year.
    date_dmy: Pattern[str]
    date_mdy: Pattern[str]
    date_numeric: Pattern[str]
    # ", Place, <date>" at the end of a title.
    title_tail: Pattern[str]
    # "Sergey Lavrov (speaking after Vladimir Makei): text" -> label, note, rest.
    speaker_label: Pattern[str]
    speaker_name: Pattern[str]


class HtmlLayout(_Strict):
    """CSS selectors of one page layout; the first selector that matches wins."""

    name: str
    # The layout applies when one of these matches.
    detect: list[Css]
    title: list[Css]
    date: list[Css] = Field(default_factory=list)
    # Where the page shows the time apart from the date.
    time: list[Css] = Field(default_factory=list)
    # When no date selector matches: the first line inside these elements that is a date (and time),
    # e.g. "14.03.2024 13:20" printed before the title with no class of its own.
    date_scope: list[Css] = Field(default_factory=list)
    doc_number: list[Css] = Field(default_factory=list)
    section: list[Css] = Field(default_factory=list)
    # The article's own list of language versions (never the site-wide switcher).
    languages: list[Css] = Field(default_factory=list)
    text: list[Css]
    # Topic headings inside the text (a briefing's centred paragraphs), every selector counted:
    # the topic of the turns after them, never speech.
    headings: list[Css] = Field(default_factory=list)
    # Blocks removed from the page before the text is read.
    drop: list[Css] = Field(default_factory=list)
    # The article head (title, date, number... around the title, up to the text container):
    # its lines are searched for a date, a time and a document number the selectors above missed.
    head: list[Css] = Field(default_factory=list)
    # Site-wide chrome (the site's language switcher, menus): never read as article metadata.
    chrome: list[Css] = Field(default_factory=list)
    # Blocks of that chrome whose content is not parsed at all (extract/precut.py): each the start
    # of its start tag as the page writes it. Left out only where that provably changes no
    # reader (else the whole page is parsed); menus are most of a heavy page's parsing.
    chrome_blocks: list[BlockStart] = Field(default_factory=list)


class ExtractionRules(_Strict):
    """Selectors and phrase lists used by extract/extractor.py, extract/clean.py and extract/metadata.py."""

    # Larger inputs are refused before parsing: no transcript is that long.
    max_bytes: int = 10_000_000
    # Below this many characters of text the container is taken as missing.
    min_text_chars: int = 40
    # Prose: a listing ends at a line with at least this many words ending a sentence.
    prose_min_words: int = 6
    patterns: TextPatterns
    languages: dict[str, LanguageRules]
    layouts: list[HtmlLayout] = Field(default_factory=list)
    # Tags never holding text (scripts, forms...), removed in every layout.
    drop_always: list[Css] = Field(default_factory=list)
    # URL path prefixes / query keys that name the language of a page.
    url_language: Pattern[str] | None = None
    # Canonical speaker ids -> the names they are printed as in any language ("Sergey Lavrov",
    # "С.В.Лавров"). A name not listed gets the id of its transliterated surname and initial.
    speakers: dict[str, list[str]] = Field(default_factory=dict)

    def all_languages(self) -> list[LanguageRules]:
        return list(self.languages.values())


# Which base URL a listing layout lives on: site.base_url or crawl.archive_base_url.
LISTING_SITES = ("current", "archive")
# What a section publishes; travels to the record (Transcript.kind) and the index.
KINDS = get_args(Kind)
# How sure the evidence is about a selector or a URL pattern (docs/evidence/site-evidence.md):
# firm = several independent sources; likely = one source that used it; claimed = unconfirmed.
Confidence = Literal["firm", "likely", "claimed"]


class DateFilter(_Strict):
    """The listing filtered by publication day (``?activeFrom=DD.MM.YYYY&activeTo=DD.MM.YYYY``)."""

    from_param: str = "activeFrom"
    to_param: str = "activeTo"
    format: str = "%d.%m.%Y"
    # Days a backfill asks for at once (crawler.py, adaptive windows): a window whose first page is
    # not full is taken whole; a full one is paged, or split where robots.txt forbids paging.
    window_days: int = Field(31, ge=1)


class ListingLayout(_Strict):
    """How one site layout shows a listing page: CSS selectors and the date formats."""

    site: str = Field(description="'current' (site.base_url) or 'archive' (crawl.archive_base_url)")
    # The element holding the list: a listing page without it (and no challenge) is a changed layout, not "empty".
    container: Css | None = Field(None, description="listing container; absent = not a listing page")
    item: Css = Field(description="one entry of the listing")
    link: Css = Field(description="the entry's link to the article (href)")
    title: Css | None = None
    date: Css | None = None
    # Where the entry shows its time apart from the date (appended to the date text).
    time: Css | None = None
    date_formats: list[str] = Field(default_factory=list, description="strptime formats, tried before dateparser")
    page_param: str | None = Field(None, description="query parameter of the page number (default for sections)")
    first_page: int = 1
    # Items a full listing page shows: a page with fewer is the last of its listing (no request for
    # an empty page after it). None: unknown, a walk asks until a page comes back empty.
    page_size: int | None = Field(None, ge=1)
    date_filter: DateFilter | None = None
    # Selector or pattern name -> firm / likely / claimed (docs/crawling.md, check-site).
    confidence: dict[str, Confidence] = Field(default_factory=dict)


class ListingPath(_Strict):
    """A section's listing in one language: its path and its page parameters."""

    path: str
    page_param: str | None = None  # overrides the layout's (portal parameters carry an instance id)
    params: dict[str, str] = Field(default_factory=dict)


def fold_name(text: str) -> str:
    """A printed name for comparisons: case, accents and apostrophe forms folded
    (Ministers’ = ministers' ; Sergueï = serguei)."""
    text = unicodedata.normalize("NFKD", text.replace("’", "'").replace("`", "'"))
    return "".join(ch for ch in text if not unicodedata.combining(ch)).casefold().strip()


class CrawlSection(_Strict):
    name: str
    kind: Kind = Field("speech", description="what the section publishes")
    layout: str = Field(description="a key of crawl.layouts")
    listings: dict[str, ListingPath] = Field(description="listing per language code")
    article_pattern: Pattern[str] = Field(description="regex an article URL path matches; group 'id' is the article id")
    frozen: bool = Field(False, description="no longer edited (the archive): known pages are not re-checked")
    # The section's own estimate of a backfill window (a busy section: fewer days), else the layout's.
    window_days: int | None = Field(None, ge=1)
    nightly: bool = Field(True, description="walked by the nightly crawl when no sections are named")
    titles: list[str] = Field(default_factory=list,
                              description="the section's printed names on pages (search --section by name)")
    labels: dict[str, str] = Field(default_factory=dict,
                                   description="the one name search and stats print for it, per language")
    # Listing entries whose title matches one of these are not transcripts (accreditation notices).
    skip_titles: list[Pattern[str]] = Field(default_factory=list)
    confidence: Confidence = "firm"

    def skips(self, title: str | None) -> bool:
        return bool(title) and any(p.search(title) for p in self.skip_titles)

    def is_named(self, printed: str) -> bool:
        """Whether ``printed`` names this section: its name or one of its printed titles (``fold_name``)."""
        return fold_name(printed) in {fold_name(n) for n in [self.name, *self.titles]}


class CrawlFeed(_Strict):
    name: str
    language: str
    path: str
    confidence: Confidence = "likely"


class BlockedRules(_Strict):
    """How an anti-bot challenge or another non-content HTTP 200 is told from a page (crawl/blocked.py)."""

    # Substrings of a body that only a challenge page has.
    markers: list[str] = Field(default_factory=list)
    # A body with a <script> and less visible text than this is a challenge too.
    min_text_chars: int = 200
    # A run in which at least this share of the pages asked for were blocked fails.
    dominant_share: float = Field(0.5, gt=0, le=1)
    # Seconds added to the host's request interval after a challenge, doubled per challenge in a row.
    backoff_s: float = 5.0
    backoff_max_s: float = 120.0
    # After this many challenges in a row from a host the run asks it nothing more: its further
    # pages fail as blocked at once (the next run tries again), so a blocked night is red in seconds.
    give_up_after: int = Field(3, ge=1)


class DriftRules(_Strict):
    """Template-drift alarm: per-section field coverage compared with the previous runs."""

    window_days: int = 30
    # A share (0..1) that moves by more than this from its mean over the window raises the alarm.
    threshold: float = Field(0.3, gt=0, le=1)
    # Sections with fewer documents in a run (or in the window) are not judged.
    min_documents: int = 3
    # A run that indexed nothing new is judged on this many of the index's newest documents instead.
    judge_last: int = Field(50, ge=1)


class RevisitRules(_Strict):
    """Which known items a run up to now (the nightly) revalidates with a conditional GET, and when
    (crawl/revisit.py): an adaptive interval per item, as Nutch's AdaptiveFetchSchedule and
    StormCrawler's AdaptiveScheduler keep one. Durations in days."""

    # Items published less than this many days ago are checked every night (fresh texts get corrected).
    fresh_days: float = Field(3.0, ge=0)
    # The interval stays within [min, max]: the shortest and the longest wait between two checks.
    min_interval_days: float = Field(1.0, gt=0)
    max_interval_days: float = Field(60.0, gt=0)
    # An unchanged answer (304, the same bytes or the same text) multiplies the interval by 1 + grow_rate.
    grow_rate: float = Field(0.5, gt=0)
    # A changed text brings it back towards the minimum: (1 - shrink_rate) * interval + shrink_rate * min.
    shrink_rate: float = Field(0.5, gt=0, le=1)
    # The interval is at least this share of the time the text has stayed the same (since publication
    # or the last edit caught): an item first indexed long after it appeared (a backfill) starts there.
    quiet_share: float = Field(0.25, ge=0)
    # Items unchanged for longer than this are not revisited any more (null: revisited forever).
    stop_after_days: float | None = Field(365.0, gt=0)
    # A run takes the items due up to this many hours after its start, so a night that starts a
    # little earlier than the one before does not leave a 1-day interval for the night after.
    slack_hours: float = Field(6.0, ge=0, lt=24)

    @model_validator(mode="after")
    def _bounds(self) -> "RevisitRules":
        if self.min_interval_days > self.max_interval_days:
            raise ValueError(f"crawl.revisit.min_interval_days ({self.min_interval_days}) is above "
                             f"max_interval_days ({self.max_interval_days})")
        return self


class CrawlRules(_Strict):
    """Sections, listing selectors and URL patterns used by crawl/listings.py and crawl/crawler.py."""

    archive_base_url: str = "https://archive.mid.ru"
    languages: list[str] = Field(default_factory=lambda: ["en", "ru"])
    layouts: dict[str, ListingLayout] = Field(default_factory=dict)
    sections: list[CrawlSection] = Field(default_factory=list)
    feeds: list[CrawlFeed] = Field(default_factory=list)
    # The one name printed for each kind, per language (search, stats).
    kind_labels: dict[str, dict[str, str]] = Field(default_factory=dict)
    # What stats print for documents without a section or a kind ("section", "kind"), per language.
    unknown_labels: dict[str, dict[str, str]] = Field(default_factory=dict)
    blocked: BlockedRules = Field(default_factory=BlockedRules)
    drift: DriftRules = Field(default_factory=DriftRules)
    revisit: RevisitRules = Field(default_factory=RevisitRules)

    @model_validator(mode="after")
    def _names_resolve(self) -> "CrawlRules":
        """A typo in a layout or site name is a load-time error, not a KeyError mid-crawl."""
        for name, layout in self.layouts.items():
            if layout.site not in LISTING_SITES:
                raise ValueError(f"crawl.layouts.{name}.site is {layout.site!r}; expected one of {list(LISTING_SITES)}")
        for section in self.sections:
            if section.layout not in self.layouts:
                raise ValueError(f"crawl section {section.name!r} uses unknown layout {section.layout!r}; "
                                 f"known: {sorted(self.layouts)}")
        return self

    def section(self, name: str) -> CrawlSection:
        for section in self.sections:
            if section.name == name:
                return section
        raise ConfigError(f"unknown crawl section {name!r}; known: {[s.name for s in self.sections]}")

    def section_of(self, url: str | None) -> CrawlSection | None:
        """The first section whose article pattern matches the path of a URL (or of a bare path):
        the one mapping of a URL to its section, for the crawl, the captures, kind and section
        of a record and the coverage per section."""
        path = urlsplit(url).path if url else ""
        return next((s for s in self.sections if s.article_pattern.search(path)), None) if path else None

    def section_named(self, printed: str | None) -> CrawlSection | None:
        """The section a stored or printed section value names (``minister_speeches``,
        ``Ministers’ speeches``), or None."""
        return next((s for s in self.sections if s.is_named(printed)), None) if printed else None


class SiteProfile(_Strict):
    site: SiteInfo
    extraction: ExtractionRules
    crawl: CrawlRules = Field(default_factory=CrawlRules)


def load_profile(path: Path) -> SiteProfile:
    """Read and validate a site profile; a clear ConfigError when it is wrong."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read site profile {path}: {exc}") from None
    try:
        return SiteProfile.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"site profile {path} is invalid: {exc}") from None
