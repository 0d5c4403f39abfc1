"""Typed records that flow between the stages, and their validation.

``Page`` is what a source or the fetcher yields (raw bytes plus what is known
about them); ``Transcript`` is the validated record that gets indexed; ``Failure``
is what any stage yields instead when one input cannot go on, so the run keeps
going and the reason is kept (dead-letter store, run report).

The JSON shape of ``Transcript`` is a public contract (README, "Record format").
"""

from __future__ import annotations

import hashlib
import unicodedata
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BeforeValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    computed_field,
    field_serializer,
    field_validator,
    model_validator,
)

from pipeline.model.errors import PipelineError, RecordRejected, printable
from pipeline.model.ids import document_id, match_key

# Moscow has kept UTC+03:00 all year since 2014; the site states times in it.
MOSCOW = timezone(timedelta(hours=3), "MSK")

# Media types a Page may hold (fetched responses, archived records); the extract stage sniffs the rest.
HTML_TYPES = ("text/html", "application/xhtml+xml", "text/plain")

# The flag of a record whose input names no title (Transcript.flags).
NO_TITLE = "no_title"

Role = Literal["statement", "question", "answer"]
Kind = Literal["speech", "interview", "briefing", "statement", "comment", "answer", "article", "news"]
Stage = Literal["source", "fetch", "extract", "validate", "index", "config"]


class ListingHints(BaseModel):
    """What a listing page, a feed or a corpus row said about one article; it travels beside the fetch
    (crawl ledger, WARC ``MFA-Hints`` header, ``Page.hints``) and fills what the page lacks."""

    model_config = ConfigDict(frozen=True)

    section: str | None = None
    language: str | None = None
    layout: str | None = None
    kind: str | None = None
    title: str | None = None
    # A Moscow-time datetime, or a bare day when the listing gave no time (the page's time line then counts).
    published: AwareDatetime | date | None = None
    article_id: str | None = None
    listing_url: str | None = None
    # A corpus row's columns (pipeline/sources/corpus.py): the date as the row prints it, read by
    # the extract stage like a date line (an unreadable one refuses the row), and who speaks when
    # no label or title names them. Left out of the JSON when unset: crawl hints keep their bytes.
    date_text: str | None = Field(None, exclude_if=lambda value: value is None)
    speaker: str | None = Field(None, exclude_if=lambda value: value is None)

    @model_validator(mode="before")
    @classmethod
    def _old_keys(cls, data: Any) -> Any:
        """The string dict written before this model (old WARC headers, old ledger entries):
        ``date`` is ``published``, ``id`` is ``article_id``."""
        if isinstance(data, dict) and ("date" in data or "id" in data):
            data = dict(data)
            if "date" in data:
                data.setdefault("published", data.pop("date"))
            if "id" in data:
                data.setdefault("article_id", data.pop("id"))
        return data

    @field_validator("published", mode="before")
    @classmethod
    def _day_or_stamp(cls, value: Any) -> Any:
        """"2021-12-09" is a day, never a midnight datetime; a string with a time is a datetime."""
        if isinstance(value, str) and len(value.strip()) == 10:
            return date.fromisoformat(value.strip())
        return value


# Where an input came from (a path, a URL, a WARC file#offset), always printable: a file name's
# undecodable byte as \xNN (errors.printable), so it survives JSON, Elasticsearch and a terminal.
Source = Annotated[str, BeforeValidator(lambda v: printable(v) if isinstance(v, str) else v)]


class Page(BaseModel):
    """One raw input: a fetched response, a file of a dump folder, a WARC record."""

    model_config = ConfigDict(frozen=True)

    source: Source = Field(description="where it came from: a path, a URL, a WARC file#offset")
    content: bytes
    url: str | None = None
    content_type: str | None = None
    fetched_at: datetime | None = None
    # Other URLs of the same article (other section paths, language prefixes) the crawl folded into this fetch.
    aliases: list[str] = Field(default_factory=list)
    # What a listing page said about the article (title, date, section, language).
    hints: ListingHints = Field(default_factory=ListingHints)


class Turn(BaseModel):
    speaker: str  # as printed ("С.В.Лавров")
    role: Role
    text: str
    # The same person in every language ("lavrov-s"); None for question labels.
    speaker_id: str | None = None
    # The topic heading the turn stands under (a briefing's "On the situation in the Middle
    # East", "Answers to media questions"), as printed; None on a page without headings.
    topic: str | None = None


class Transcript(BaseModel):
    """A validated transcript, ready to index."""

    model_config = ConfigDict(str_strip_whitespace=True)

    # None when the input names no title (a dump of the speech paragraphs only): the record
    # is kept, and flagged "no_title", rather than losing its speech.
    title: str | None = Field(None, min_length=1)
    published_at: AwareDatetime
    location: str | None = None
    language: str = Field(min_length=2, max_length=8)
    languages: list[str] = Field(default_factory=list)
    doc_number: str | None = None
    section: str | None = None
    # What the section publishes (profile crawl.sections[].kind): speech, briefing, news...
    kind: Kind | None = None
    url: str | None = None
    # Provenance, stamped by the ingest path: the article whatever path reached it (shared by
    # its language versions), every URL that reached it (canonical first), when it was fetched.
    event_id: str | None = None
    urls: list[str] = Field(default_factory=list)
    fetched_at: AwareDatetime | None = None
    body: str = Field(min_length=1)
    turns: list[Turn] = Field(default_factory=list)
    speakers: list[str] = Field(default_factory=list)
    # speaker_id of each of ``speakers``, same order (distinct ids).
    speaker_ids: list[str] = Field(default_factory=list)
    # "Unofficial translation from Russian" and the like: said of the text, not part of it.
    translation_note: str | None = None
    # Which reader produced the record: a profile layout's name ("current", "archive"...),
    # "generic" (the fallback for an HTML page no layout reads) or "text" (a text dump).
    layout: str | None = None
    source: Source | None = None
    # What is known to be missing or guessed in the record ("no_title"). Left out of the JSON
    # when empty, so records without a flag keep the shape (and bytes) they always had.
    flags: list[str] = Field(default_factory=list, exclude_if=lambda value: not value)

    @field_validator("published_at")
    @classmethod
    def _to_moscow(cls, value: datetime) -> datetime:
        return value.astimezone(MOSCOW)

    @field_serializer("published_at")
    def _iso(self, value: datetime) -> str:
        return value.isoformat()

    @field_serializer("fetched_at")
    def _iso_or_none(self, value: datetime | None) -> str | None:
        return value.isoformat() if value is not None else None

    @model_validator(mode="after")
    def _body_has_words(self) -> "Transcript":
        if not any(ch.isalnum() for ch in self.body):
            raise ValueError("body has no words")
        return self

    @model_validator(mode="after")
    def _flag_missing_title(self) -> "Transcript":
        # The one place the flag is set: whoever builds an untitled record, it says so.
        if self.title is None and NO_TITLE not in self.flags:
            self.flags = [*self.flags, NO_TITLE]
        return self

    @computed_field  # type: ignore[prop-decorator]
    @property
    def word_count(self) -> int:
        return _body_digest(self.body)[0]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def content_hash(self) -> str:
        # The indexer reads it to skip unchanged documents and model_dump computes it
        # again: memoised by body string (str caches its own hash, so a hit is cheap).
        return _body_digest(self.body)[1]

    @property
    def doc_id(self) -> str:
        return document_id(self)

    @property
    def match_key(self) -> str:
        return match_key(self)


# The outcome class of a failure when the error that made it did not say (errors.PipelineError.kind).
KIND_BY_STAGE = {"source": "source_error", "fetch": "fetch_error", "extract": "extraction_failure",
                 "validate": "validation_failure", "index": "index_failure", "config": "config_error"}


class Failure(BaseModel):
    """An input that could not go on, with the stage, the outcome class and the reason."""

    source: Source
    stage: Stage
    reason: str
    kind: str = Field("", description="outcome class for the report: site_unreachable, blocked, http_error, ...")
    url: str | None = None
    raw: bytes | None = None
    at: AwareDatetime = Field(default_factory=lambda: datetime.now(timezone.utc))

    @field_validator("reason")
    @classmethod
    def _printable_reason(cls, reason: str) -> str:
        # a reason may quote what was read (raw binary, an ESC sequence): one printable line
        return printable(reason)

    @model_validator(mode="after")
    def _default_kind(self) -> "Failure":
        if not self.kind:
            self.kind = KIND_BY_STAGE.get(self.stage, "error")
        return self

    @classmethod
    def from_error(cls, exc: PipelineError, *, source: str, url: str | None = None,
                   raw: bytes | None = None) -> "Failure":
        """The Failure a stage's error stands for: its stage, its class and its reason."""
        return cls(source=source, url=url, stage=exc.stage, kind=exc.kind, reason=exc.reason, raw=raw)

    def one_line(self) -> str:
        return f"{printable(self.source)}: {self.stage}: {self.reason}"


def normalise_text(text: str) -> str:
    """The form a body is hashed in: NFC, single spaces, no blank-line noise."""
    text = unicodedata.normalize("NFC", text)
    # split/join collapses exactly the Unicode whitespace re's \s+ does (and strips), 10x faster
    return " ".join(text.split())


def content_hash(body: str) -> str:
    """SHA-256 (hex) of the body normalised as ``normalise_text`` does."""
    return _body_digest(body)[1]


@lru_cache(maxsize=64)
def _body_digest(body: str) -> tuple[int, str]:
    """(word count, content hash) of a body with one split of it: splitting a long
    Cyrillic body on whitespace is the dearest part of both."""
    words = body.split()
    normal = unicodedata.normalize("NFC", body)  # the same object when already NFC
    text = " ".join(words) if normal is body else normalise_text(body)
    return len(words), hashlib.sha256(text.encode("utf-8")).hexdigest()


def validate_record(fields: dict, *, source: str | None = None) -> Transcript:
    """Build a Transcript or raise RecordRejected with a reason a person can read."""
    try:
        return Transcript.model_validate({**fields, "source": source or fields.get("source")})
    except ValidationError as exc:
        reasons = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err["loc"]) or "record"
            reasons.append(f"{where}: {err['msg']}")
        raise RecordRejected("; ".join(reasons)) from None
