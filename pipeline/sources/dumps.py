"""Source: a folder (or a list) of saved pages, text dumps or HTML, one page per file.

Reads bytes only; deciding whether a file is HTML, text or garbage is the extract
stage's job. A missing or empty folder, or an unreadable or oversized file, is a
Failure with a one-line reason, and the other files still go on. Folders and files
may be URLs (``s3://bucket/dumps/``...), read through pipeline/storage.py, so a
backfill partition finds its dumps on whichever worker runs it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Iterator

from pipeline import storage
from pipeline.model.records import Failure, Page
from pipeline.settings import DEFAULT_PAGE_BYTES
from pipeline.storage import Location

_SKIPPED_NAMES = {".DS_Store", "Thumbs.db"}


def _candidate_files(folder: Location, exclude: tuple[Path, ...] = ()) -> list[Location]:
    """The files under ``folder`` that may be pages: not hidden, nor in a hidden folder below it
    (``.venv``, ``.git``, ``.state``), nor under an ``exclude`` folder (the state folder)."""
    def hidden(file: Location) -> bool:
        if not isinstance(file, Path) or not isinstance(folder, Path):
            return storage.name_of(file).startswith(".")
        return any(part.startswith(".") for part in file.relative_to(folder).parts)

    return [f for f in storage.files_under(folder)
            if storage.name_of(f) not in _SKIPPED_NAMES and not hidden(f)
            and not (isinstance(f, Path) and any(f.resolve().is_relative_to(x) for x in exclude))]


def _read_file(location: Location, max_bytes: int) -> Page | Failure:
    try:
        size = storage.size_of(location)
        if size > max_bytes:
            return Failure(source=str(location), stage="source",
                           reason=f"file is {size} bytes, over the {max_bytes}-byte limit")
        with storage.open_file(location) as handle:
            return Page(source=str(location), content=handle.read())
    except OSError as exc:
        return Failure(source=str(location), stage="source", reason=f"cannot read file: {exc.strerror or exc}")


def iter_dump_folder(paths: Location | Iterable[Location], *, max_bytes: int = DEFAULT_PAGE_BYTES,
                     exclude: Iterable[Path] = ()) -> Iterator[Page | Failure]:
    """Yield one Page per file under each given folder (or each given file), in name order;
    hidden files and folders, and the folders in ``exclude``, are not walked."""
    exclude = tuple(Path(x).resolve() for x in exclude)
    if isinstance(paths, (str, Path)):
        paths = [paths]
    for raw in paths:
        location = storage.normalize(raw)
        if storage.is_file(location):
            yield _read_file(location, max_bytes)
        elif not storage.exists(location):
            yield Failure(source=str(location), stage="source", reason="input folder does not exist")
        elif not storage.is_folder(location):
            yield Failure(source=str(location), stage="source", reason="input is neither a file nor a folder")
        else:
            files = _candidate_files(location, exclude)
            if not files:
                yield Failure(source=str(location), stage="source", reason="input folder holds no files")
            for file in files:
                yield _read_file(file, max_bytes)
