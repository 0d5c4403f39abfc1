"""Tabular output of the query commands: a table for people, CSV for a spreadsheet, JSON for a notebook."""

from __future__ import annotations

import csv
import json
import sys
from enum import Enum
from typing import Annotated

import typer


class Format(str, Enum):
    table = "table"
    json = "json"
    csv = "csv"


FormatOpt = Annotated[Format, typer.Option("--format", help="table, json or csv")]


def print_rows(rows: list[dict], fmt: Format, *, columns: list[str], title: str | None = None,
               total: dict | None = None) -> None:
    """Rows (dicts) in the format asked; ``total``: a last row shown in the table only."""
    if fmt is Format.json:
        typer.echo(json.dumps(rows, ensure_ascii=False, indent=2, default=str))
        return
    if fmt is Format.csv:
        writer = csv.DictWriter(sys.stdout, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        sys.stdout.flush()
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for column in columns:
        table.add_column(column, justify="right" if rows and isinstance(rows[0].get(column), int) else "left")
    for row in rows:
        table.add_row(*("" if row.get(c) is None else str(row.get(c)) for c in columns))
    if total and rows:
        table.add_section()
        table.add_row(*(str(total.get(c, "")) for c in columns))
    Console(width=max(100, Console().width)).print(table)
