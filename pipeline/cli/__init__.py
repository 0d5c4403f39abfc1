"""Command-line interface: ``mfa-ingest COMMAND``.

One module per group of commands; each registers on the shared Typer app.
The commands are thin: they parse options, call the library, print results.
"""

from ._app import app
from . import ingest_cmd, extract_cmd, crawl_cmd, index_cmd  # noqa: F401  (registration)


def main() -> None:
    app()
