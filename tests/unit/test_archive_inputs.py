"""One reader of archive inputs (expand_archive_inputs) behind replay, reindex and the backfill partitions."""

from __future__ import annotations

import shutil
from pathlib import Path

from pipeline.jobs.backfill import archive_partitions
from pipeline.context import get_profile
from pipeline.model.records import Failure, Page
from pipeline.sources.archive import archive_pages
from pipeline.sources.warc import ArchiveInput, expand_archive_inputs

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "warc" / "wget-replica.warc.gz"
DUMPS = Path(__file__).resolve().parents[2] / "sample" / "dumps"


def warc_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "warcs"
    folder.mkdir()
    shutil.copy(FIXTURE, folder / "b.warc.gz")
    shutil.copy(FIXTURE, folder / "a.warc.gz")
    (folder / "notes.txt").write_text("not an archive")
    return folder


def test_folders_of_warcs_expand_to_their_files_and_dump_folders_stay_whole(tmp_path):
    folder = warc_folder(tmp_path)
    inputs = expand_archive_inputs([folder, DUMPS, tmp_path / "missing.warc.gz"])
    assert inputs == [ArchiveInput("warc", folder / "a.warc.gz"), ArchiveInput("warc", folder / "b.warc.gz"),
                      ArchiveInput("dumps", DUMPS), ArchiveInput("warc", tmp_path / "missing.warc.gz")]
    assert [p["path"] for p in archive_partitions([folder, DUMPS])] == [
        str(folder / "a.warc.gz"), str(folder / "b.warc.gz"), str(DUMPS)]


def test_reindex_replays_a_folder_of_warc_files(tmp_path):
    """Before: a folder was read as text dumps, each WARC a 'binary content' failure."""
    items = list(archive_pages([warc_folder(tmp_path)], max_bytes=10_000_000, profile=get_profile()))
    assert items and all(isinstance(i, Page) for i in items), [i for i in items if isinstance(i, Failure)]
    assert [p.url.rsplit("/", 2)[-2] for p in items] == ["1785001", "1785002", "1785003"] * 2
