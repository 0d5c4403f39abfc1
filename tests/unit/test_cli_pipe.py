"""A reader that stops early (``mfa-ingest ... | head``) ends the command quietly: no BrokenPipe traceback."""

from __future__ import annotations

import subprocess

from tests.conftest import REPO, SAMPLE_DUMPS


def test_output_into_head_prints_no_traceback():
    files = " ".join(str(p) for p in sorted(SAMPLE_DUMPS.glob("*.txt")) * 30)  # far more than a pipe holds
    cli = REPO / ".venv" / "bin" / "mfa-ingest"
    done = subprocess.run(["bash", "-c", f"set -o pipefail; {cli} extract {files} --pretty | head -1"],
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.stdout.strip() == "{"
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr, done.stderr[-2000:]
