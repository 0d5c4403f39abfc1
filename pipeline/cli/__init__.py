"""Command-line interface: ``mfa-ingest COMMAND``.

One module per group of commands; each registers on the shared Typer app through
``_common.command``, which turns the expected errors into a message with a hint.
The commands are thin: they parse options, call the library, print results.
"""

from pipeline.cli._app import app
from pipeline.cli import ingest_cmd
from pipeline.cli import extract_cmd
from pipeline.cli import crawl_cmd
from pipeline.cli import index_cmd
from pipeline.cli import site_cmd
from pipeline.cli import history_cmd  # noqa: F401  (registration)


def main() -> None:
    import sys

    from pipeline.redact import RedactingStream

    # Everything the command prints (messages, --json, tracebacks, log lines) loses the
    # password of any URL in it: MFA_ES_URL may carry one.
    sys.stdout, sys.stderr = RedactingStream(sys.stdout), RedactingStream(sys.stderr)
    try:
        try:
            app()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
    except BrokenPipeError:
        # The reader stopped early (| head): what it wanted is out. Nothing more may reach the closed
        # pipe, not even the interpreter's flush at exit, which would print its own BrokenPipe.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(0)
