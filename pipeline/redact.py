"""Secrets out of every message: the one redaction of URLs that carry credentials.

``MFA_ES_URL`` may be ``https://user:password@host:port`` (a documented form), and a
source, a reason or a log line may quote such a URL. Everything the pipeline shows or
keeps about a run passes through ``redact``: the CLI's stdout and stderr (messages,
``--json``, tracebacks with ``--debug``, log lines; pipeline/cli/__init__.py), and every
failure the run keeps (the report's lines, pipeline/report.py; the dead letters, file
and index, pipeline/store/deadletter.py). The password becomes ``***``; the user name
stays, so the message still says who was refused."""

from __future__ import annotations

import io
import re

MASK = "***"

# scheme://user:password@ : the password runs to the last "@" before the host (an unencoded "@"
# in a password is read so by urlsplit too), never across a "/" or whitespace. One slash is
# enough: a URL that went through a path (s3:/user:pw@bucket) still carries the password.
_CREDENTIALS = re.compile(r"(?P<lead>\b[A-Za-z][A-Za-z0-9+.-]*:/+[^\s/:@]*):(?P<password>[^\s/]*)@")


def redact(text: str) -> str:
    """``text`` with the password of every URL in it replaced by ``***``."""
    if "@" not in text:  # the common case, at no cost
        return text
    return _CREDENTIALS.sub(lambda m: f"{m['lead']}:{MASK}@", text)


class RedactingStream(io.TextIOBase):
    """A text stream (stdout, stderr) that redacts what is written to it, line by line: a
    line written in pieces is held until it ends or the stream is flushed (click flushes
    after every echo, so a prompt still shows)."""

    def __init__(self, stream):
        self._stream = stream
        self._pending = ""

    def write(self, written: str) -> int:
        text = self._pending + written
        head, newline, self._pending = text.rpartition("\n")
        if newline:
            self._stream.write(redact(head + newline))
        if "\r" in self._pending:  # a progress bar redraws its line in place: let it through
            self._stream.write(redact(self._pending))
            self._pending = ""
        return len(written)

    def flush(self) -> None:
        if self._pending:
            self._stream.write(redact(self._pending))
            self._pending = ""
        self._stream.flush()

    def isatty(self) -> bool:
        return self._stream.isatty()

    def fileno(self) -> int:
        return self._stream.fileno()

    @property
    def encoding(self):
        return self._stream.encoding

    @property
    def errors(self):
        return self._stream.errors

    @property
    def buffer(self):
        return self._stream.buffer
