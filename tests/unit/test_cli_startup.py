"""What a start of ``mfa-ingest`` costs before its command runs: the command modules are imported
to list and parse the commands, and nothing heavy with them (the suite starts the CLI as a process
some hundred times: the documented commands, the e2e and cluster tests)."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import REPO

# Imported only by the commands that use them: the extraction (lxml, dateparser via the profile),
# the records and settings (pydantic), the node's client.
HEAVY = ("pipeline.extract", "pipeline.profile", "pipeline.sources", "pipeline.store", "pipeline.settings",
         "pipeline.model.records", "lxml", "dateparser", "pydantic", "elasticsearch", "fsspec")


def test_listing_the_commands_imports_nothing_heavy():
    code = "import sys, pipeline.cli; print('\\n'.join(sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    heavy = sorted(m for m in loaded if m.startswith(HEAVY))
    assert not heavy, heavy


def test_help_lists_every_command_with_its_help_line():
    from typer.main import get_command

    from pipeline.cli import app

    env = {**os.environ, "COLUMNS": "200", "TERM": "dumb"}
    shown = subprocess.run([str(REPO / ".venv" / "bin" / "mfa-ingest"), "--help"], capture_output=True, text=True,
                           env=env, check=True).stdout
    for name, command in get_command(app).commands.items():
        first_words = " ".join((command.help or "").split()[:4])
        assert any(name in line and first_words in " ".join(line.split()) for line in shown.splitlines()), (
            name, first_words)
