"""Storage addressed by URL: where WARC files, dead-letter files and archive inputs live.

Every location is a URL that fsspec understands: a plain path or ``file:///...``
on one machine or a shared mount, ``s3://bucket/prefix`` (or any other fsspec
protocol whose package is installed) in production, so that every Airflow worker
reads and writes the same archive and a partition retried on another machine
finds its inputs. Credentials are never part of the URL: fsspec takes them from
the environment (for S3 the usual AWS variables or instance role); inside
Airflow, from a connection (docs/deployment.md).

Local locations stay plain ``Path`` objects, so the rest of the pipeline and its
messages look as before; only the open/list/make-folder steps go through here.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO

import fsspec
from fsspec.implementations.local import LocalFileSystem

Location = Path | str  # a local path, or a URL with a protocol


def is_local(location: Location) -> bool:
    return isinstance(location, Path) or "://" not in location or location.startswith("file://")


def normalize(location: Location) -> Location:
    """A ``Path`` for local places (``file://`` URLs included), the URL itself otherwise."""
    if isinstance(location, Path):
        return location
    if "://" not in location:
        return Path(location)
    if location.startswith("file://"):
        return Path(fsspec.core.strip_protocol(location))
    return location.rstrip("/")


def filesystem(location: Location) -> tuple[fsspec.AbstractFileSystem, str]:
    """The filesystem and the path inside it."""
    location = normalize(location)
    if isinstance(location, Path):
        return LocalFileSystem(), str(location)
    return fsspec.core.url_to_fs(location)


def join(location: Location, name: str) -> Location:
    location = normalize(location)
    return location / name if isinstance(location, Path) else f"{location}/{name}"


def name_of(location: Location) -> str:
    location = normalize(location)
    return location.name if isinstance(location, Path) else location.rstrip("/").rsplit("/", 1)[-1]


def make_folder(location: Location) -> None:
    fs, path = filesystem(location)
    fs.makedirs(path, exist_ok=True)


def open_file(location: Location, mode: str = "rb", **kwargs) -> IO:
    fs, path = filesystem(location)
    return fs.open(path, mode, **kwargs)


def open_private(location: Location, mode: str = "a") -> IO:
    """A local text file (UTF-8) created readable and writable by its owner only (mode 600)."""
    import os

    path = normalize(location)
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if mode == "a" else os.O_TRUNC)
    return open(os.open(path, flags, 0o600), mode, encoding="utf-8")


def is_file(location: Location) -> bool:
    fs, path = filesystem(location)
    return fs.isfile(path)


def is_folder(location: Location) -> bool:
    fs, path = filesystem(location)
    return fs.isdir(path)


def files_in(location: Location) -> list[Location]:
    """The files directly in a folder, in name order, as locations of the same kind."""
    fs, path = filesystem(location)
    names = sorted(info["name"] for info in fs.ls(path, detail=True) if info["type"] == "file")
    base = normalize(location)
    return [join(base, n.rstrip("/").rsplit("/", 1)[-1]) for n in names]


def files_under(location: Location) -> list[Location]:
    """Every file below a folder, at any depth, in name order, as locations of the same kind."""
    location = normalize(location)
    if isinstance(location, Path):
        return sorted(p for p in location.rglob("*") if p.is_file())
    fs, path = filesystem(location)
    # Spelled from the URL given (not fsspec's own form of it), so sources read as the user wrote them.
    return sorted(location + name[len(path.rstrip("/")):] for name in fs.find(path))


def size_of(location: Location) -> int:
    fs, path = filesystem(location)
    return int(fs.size(path))


def exists(location: Location) -> bool:
    fs, path = filesystem(location)
    return fs.exists(path)


def can_append(location: Location) -> bool:
    """Object stores (S3...) cannot append to an object: a writer rewrites it whole instead."""
    return is_local(location)
