"""The Typer application every command module registers on, and its global options."""

from dataclasses import dataclass

import typer

app = typer.Typer(
    name="mfa-ingest",
    help="Ingest mid.ru transcripts: crawl, extract, validate and index them into Elasticsearch.\n\n"
         "Example: mfa-ingest ingest sample/dumps && mfa-ingest search NATO --speaker Lavrov",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@dataclass
class State:
    debug: bool = False


state = State()


@app.callback()
def main_options(
    debug: bool = typer.Option(False, "--debug", envvar="MFA_DEBUG",
                               help="show the traceback of an error instead of a one-line message"),
) -> None:
    """Options before the command apply to every command: mfa-ingest --debug stats."""
    state.debug = debug
