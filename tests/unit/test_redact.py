"""The one redaction of URLs with credentials (pipeline/redact.py)."""

import io

import pytest

from pipeline.redact import RedactingStream, redact


@pytest.mark.parametrize("text, shown", [
    ("unreachable at https://mfa-pipeline:pw@es:9243", "unreachable at https://mfa-pipeline:***@es:9243"),
    ("http://u:p@ss@host/x and s3://k:s3cr3t@bucket/p", "http://u:***@host/x and s3://k:***@bucket/p"),
    ("s3:/user:pw@bucket/dumps", "s3:/user:***@bucket/dumps"),
    ("https://user@host/ mail me@example.org", "https://user@host/ mail me@example.org"),
    ("no url at all", "no url at all"),
])
def test_redact(text, shown):
    assert redact(text) == shown
    assert redact(shown) == shown


def test_the_stream_redacts_a_url_written_in_pieces():
    out = io.StringIO()
    stream = RedactingStream(out)
    for piece in ["error: https://u:", "hunter2", "@host:1/ x\n", "next ", "line\n"]:
        stream.write(piece)
    stream.flush()
    assert out.getvalue() == "error: https://u:***@host:1/ x\nnext line\n"
