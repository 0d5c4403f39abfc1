"""Source: a folder (or a list) of saved pages, text dumps or HTML, one page per file.

Reads bytes only; deciding whether a file is HTML, text or garbage is the extract
stage's job. A missing or empty folder, or an unreadable or oversized file, is a
Failure with a one-line reason, and the other files still go on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Iterator

from pipeline.settings import DEFAULT_PAGE_BYTES
from pipeline.records import Failure, Page

_SKIPPED_NAMES = {".DS_Store", "Thumbs.db"}


def _candidate_files(folder: Path) -> list[Path]:
    return sorted(
        p for p in folder.rglob("*")
        if p.is_file() and p.name not in _SKIPPED_NAMES and not p.name.startswith(".")
    )


def _read_file(path: Path, max_bytes: int) -> Page | Failure:
    try:
        size = path.stat().st_size
        if size > max_bytes:
            return Failure(source=str(path), stage="source",
                           reason=f"file is {size} bytes, over the {max_bytes}-byte limit")
        return Page(source=str(path), content=path.read_bytes())
    except OSError as exc:
        return Failure(source=str(path), stage="source", reason=f"cannot read file: {exc.strerror or exc}")


def iter_dump_folder(paths: Path | str | Iterable[Path | str], *, max_bytes: int = DEFAULT_PAGE_BYTES) -> Iterator[Page | Failure]:
    """Yield one Page per file under each given folder (or each given file), in name order."""
    if isinstance(paths, (str, Path)):
        paths = [paths]
    for raw in paths:
        path = Path(raw)
        if path.is_file():
            yield _read_file(path, max_bytes)
        elif not path.exists():
            yield Failure(source=str(path), stage="source", reason="input folder does not exist")
        elif not path.is_dir():
            yield Failure(source=str(path), stage="source", reason="input is neither a file nor a folder")
        else:
            files = _candidate_files(path)
            if not files:
                yield Failure(source=str(path), stage="source", reason="input folder holds no files")
            for file in files:
                yield _read_file(file, max_bytes)
