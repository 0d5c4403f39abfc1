"""The dump-folder source: every file becomes a Page, every bad input a one-line Failure."""

from pipeline.model.records import Failure, Page
from pipeline.sources.dumps import iter_dump_folder

from tests.conftest import SAMPLE_DUMPS


def test_sample_folder_yields_one_page_per_file_in_name_order():
    items = list(iter_dump_folder(SAMPLE_DUMPS))
    names = sorted(p.name for p in SAMPLE_DUMPS.iterdir())
    assert [type(i) for i in items] == [Page] * len(names)
    assert [i.source.rsplit("/", 1)[-1] for i in items] == names
    assert items[0].content == (SAMPLE_DUMPS / names[0]).read_bytes()


def test_missing_and_empty_folders_are_failures(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    items = list(iter_dump_folder([tmp_path / "nope", empty]))
    assert all(isinstance(i, Failure) and i.stage == "source" for i in items)
    assert ["does not exist" in items[0].reason, "no files" in items[1].reason] == [True, True]


def test_oversized_file_is_refused_and_others_still_read(tmp_path):
    (tmp_path / "a.txt").write_text("small")
    (tmp_path / "b.txt").write_bytes(b"x" * 100)
    items = list(iter_dump_folder(tmp_path, max_bytes=50))
    assert isinstance(items[0], Page)
    assert isinstance(items[1], Failure) and "over the 50-byte limit" in items[1].reason
