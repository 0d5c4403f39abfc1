"""Source: other people's corpora, CSV or JSON-lines files of transcripts -> one Page per row.

Public corpora of mid.ru transcripts come as exports with columns such as ``speaker, date,
title, text, url``. Each row is one input: its text column is the Page's content (the
extract stage reads it as a text dump, through the dump cleaner), and the other columns
travel as ``ListingHints`` that fill a field the text lacks (title, date, url, speaker).
A missing value is an empty cell or one of ``MISSING`` (public corpora write ``NA``).

A row that cannot be read is a Failure naming the file and the row, and the next row
goes on: a bad JSON line, a line that is no JSON object, a CSV row with more or fewer
fields than its header, a row without text, a text over the size cap. A file that cannot
be opened, or that has no header row, is one Failure (a header without the text column
makes every row a Failure saying which columns there are). The date column is
read by the extract stage (with the profile's date forms); a date it cannot read refuses
the row there. Files may be URLs (pipeline/storage.py), like dump folders.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from typing import Iterator

from pipeline import storage
from pipeline.model.errors import ConfigError
from pipeline.model.records import Failure, ListingHints, Page
from pipeline.settings import DEFAULT_PAGE_BYTES
from pipeline.storage import Location

CORPUS_SUFFIXES = (".csv", ".jsonl", ".ndjson")
FIELDS = ("title", "text", "url", "date", "speaker")
# How public corpora write a missing value (compared case-insensitively, spaces stripped).
MISSING = frozenset({"", "na", "n/a", "nan", "null", "none"})


@dataclass(frozen=True)
class ColumnMap:
    """Which column holds each field; by default the field's own name."""

    title: str = "title"
    text: str = "text"
    url: str = "url"
    date: str = "date"
    speaker: str = "speaker"

    @classmethod
    def parse(cls, spec: str | None) -> "ColumnMap":
        """``title=headline,text=body``: fields not named keep their default column.
        Raises ConfigError naming what is wrong (a run's configuration, never retried)."""
        if not spec or not spec.strip():
            return cls()
        given: dict[str, str] = {}
        for part in spec.split(","):
            field, sep, column = part.partition("=")
            field, column = field.strip(), column.strip()
            if not sep or not column:
                raise ConfigError(f"column mapping: {part.strip()!r} is not FIELD=COLUMN")
            if field not in FIELDS:
                raise ConfigError(f"column mapping: unknown field {field!r} (fields: {', '.join(FIELDS)})")
            given[field] = column
        return cls(**given)


def is_corpus_name(location: Location) -> bool:
    return storage.name_of(location).lower().endswith(CORPUS_SUFFIXES)


def iter_corpus(location: Location, columns: ColumnMap | None = None, *,
                max_bytes: int = DEFAULT_PAGE_BYTES) -> Iterator[Page | Failure]:
    """One Page (or Failure) per row of a CSV or JSON-lines file, in file order."""
    columns = columns or ColumnMap()
    try:
        with storage.open_file(location) as handle:
            # utf-8-sig: spreadsheet exports begin with a byte-order mark
            text = io.TextIOWrapper(handle, encoding="utf-8-sig", errors="replace", newline="")
            rows = _csv_rows(text, location) if storage.name_of(location).lower().endswith(".csv") \
                else _json_rows(text)
            for number, row in rows:
                yield _page(location, number, row, columns, max_bytes)
    except OSError as exc:
        yield Failure(source=str(location), stage="source", reason=f"cannot read file: {exc.strerror or exc}")
    except _BadFile as exc:
        yield Failure(source=str(location), stage="source", reason=str(exc))


class _BadFile(Exception):
    """The file as a whole cannot be read as a corpus (no header, no text column)."""


def _csv_rows(text, location) -> Iterator[tuple[int, dict | str]]:
    """(row number, the row's values by column, or why the row cannot be read); rows
    count from 1 after the header."""
    csv.field_size_limit(1 << 30)  # the size cap is applied per text, with a reason
    reader = csv.reader(text)
    try:
        header = next(reader)
    except StopIteration:
        raise _BadFile("empty file: no header row") from None
    except csv.Error as exc:
        raise _BadFile(f"unreadable header row: {exc}") from None
    header = [name.strip() for name in header]
    number = 0
    while True:
        number += 1
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield number, f"unreadable CSV row (line {reader.line_num}): {exc}"
            continue
        if not values:
            number -= 1  # a blank line is no row
            continue
        if len(values) != len(header):
            yield number, f"{len(values)} fields where the header has {len(header)} (line {reader.line_num})"
            continue
        yield number, dict(zip(header, values))


def _json_rows(text) -> Iterator[tuple[int, dict | str]]:
    """(line number, the object's values, or why the line cannot be read); blank lines are no rows."""
    for number, line in enumerate(text, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as exc:
            yield number, f"bad JSON: {exc}"
            continue
        if not isinstance(row, dict):
            yield number, f"a JSON {type(row).__name__}, not an object"
            continue
        yield number, row


def _value(row: dict, column: str) -> str | None:
    value = row.get(column)
    if value is None or isinstance(value, (dict, list)):
        return None
    value = str(value).strip()
    return None if value.casefold() in MISSING else value


def _page(location: Location, number: int, row: dict | str, columns: ColumnMap, max_bytes: int) -> Page | Failure:
    source = f"{location}#row{number}"
    if isinstance(row, str):
        return Failure(source=source, stage="source", reason=f"row {number}: {row}")
    text = _value(row, columns.text)
    url = _value(row, columns.url)
    if text is None:
        known = ", ".join(map(str, row)) or "none"
        return Failure(source=source, url=url, stage="source",
                       reason=f"row {number}: no text in column {columns.text!r} (columns: {known})")
    content = text.encode("utf-8")
    if len(content) > max_bytes:
        return Failure(source=source, url=url, stage="source",
                       reason=f"row {number}: text is {len(content)} bytes, over the {max_bytes}-byte limit")
    hints = ListingHints(title=_value(row, columns.title), date_text=_value(row, columns.date),
                         speaker=_value(row, columns.speaker))
    return Page(source=source, content=content, url=url, hints=hints)
