"""history: a dump file names its document; --diff shows what each version changed, in time order."""

from __future__ import annotations

import shutil

from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.context import RunContext
from pipeline.ingest import ingest_archive
from tests.conftest import SAMPLE_DUMPS


def test_history_of_a_dump_file_with_the_diff_of_each_version(es, settings, index_alias, tmp_path):
    folder = tmp_path / "dumps"
    folder.mkdir()
    dump = folder / "000.txt"
    original = next(SAMPLE_DUMPS.glob("000_*.txt")).read_text(encoding="utf-8")
    dump.write_text(original, encoding="utf-8")
    assert ingest_archive(RunContext.build(settings), folder).new == 1
    dump.write_text(original.replace("Good afternoon.", "Good afternoon, colleagues. A sentence added later."),
                    encoding="utf-8")
    assert ingest_archive(RunContext.build(settings), folder).updated == 1

    done = CliRunner().invoke(app, ["history", str(dump), "--diff", "--index", index_alias])
    assert done.exit_code == 0, done.output
    out = done.stdout
    assert out.index("v1") < out.index("v2")
    assert "+Good afternoon, colleagues. A sentence added later." in out
    assert "-Good afternoon." in out
    shutil.rmtree(folder)
