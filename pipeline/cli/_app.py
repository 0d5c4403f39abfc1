"""The Typer application every command module registers on."""

import typer

app = typer.Typer(
    name="mfa-ingest",
    help="Ingest mid.ru transcripts: crawl, extract, validate and index them into Elasticsearch.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
