"""What every command shares: expected errors as one or two lines with a hint, the
end of a run (report, one line per failure class, exit code), and the options that
mean the same thing on every command (``--index``, ``--json``, ``--allow-failures``,
``--progress``).

Exit codes: 0 fine; 1 some inputs failed (beyond ``--allow-failures``) or a check
failed; 2 bad arguments (Typer's own); 3 the environment is wrong (Elasticsearch
unreachable or refusing us, an index missing, a bad profile or settings).
"""

from __future__ import annotations

import functools
import json
import logging
import sys
import traceback
from typing import Annotated, Callable, Optional

import typer

from pipeline.cli._app import app, state
from pipeline.model.errors import NotAnAlias

EXIT_FAILED, EXIT_USAGE, EXIT_ENVIRONMENT = 1, 2, 3

# The options every command that reads or writes spells the same way.
def _index_name(name: str | None) -> str | None:
    """``--index`` keeps Elasticsearch's naming rules, or the command stops before any work (exit 2)."""
    from pipeline.settings import index_name_problem

    problem = None if name is None else index_name_problem(name)
    if problem:
        raise typer.BadParameter(problem, param_hint="--index")
    return name


IndexOpt = Annotated[Optional[str], typer.Option(
    "--index", callback=_index_name, help="alias or concrete index to read/write (default: MFA_INDEX_ALIAS)")]
JsonOpt = Annotated[bool, typer.Option("--json", help="print the result as JSON (also on failure)")]
AllowFailuresOpt = Annotated[Optional[str], typer.Option(
    "--allow-failures", metavar="N|P%",
    help="exit 0 although up to N inputs (or P% of those attempted) failed; default: none")]
ProgressOpt = Annotated[Optional[bool], typer.Option(
    "--progress/--no-progress", help="progress bar (default: on a terminal; log lines otherwise)")]


def explain(exc: BaseException) -> tuple[str, str] | None:
    """(message, hint) for an error a user can fix; None for a bug (shown as a traceback)."""
    from pydantic import ValidationError

    from pipeline.model.errors import ConfigError, IndexingError, PipelineError
    from pipeline.store.client import error_kind, error_reason
    from pipeline.redact import redact

    def es_url() -> str:
        # the command's context, when it got as far as building one (the settings may be what is broken)
        return redact(_context[0].settings.es_url) if _context else "MFA_ES_URL"

    kind = error_kind(exc)
    if kind == "tls":  # no answer we could trust: the node's certificate did not pass
        return (f"Elasticsearch at {es_url()}: TLS certificate problem: {error_reason(exc)}",
                "set MFA_ES_CA_CERTS to the CA (PEM) that signed the node's certificate "
                "(scripts/es.sh: .state/es/secure/config/certs/ca/ca.crt), or check the host name in MFA_ES_URL")
    if kind == "unreachable":
        return (f"Elasticsearch unreachable at {es_url()}",
                "start it (scripts/es.sh start) or point MFA_ES_URL at a running node")
    if kind == "credentials":
        return (f"Elasticsearch at {es_url()} refused our credentials (401)",
                "set MFA_ES_USERNAME/MFA_ES_PASSWORD or MFA_ES_API_KEY")
    if kind == "forbidden":
        return (f"Elasticsearch at {es_url()} does not allow this (403)",
                "the user or API key needs read/write rights on the mfa-* indices")
    if kind == "missing":
        return (f"index missing: {error_reason(exc)}",
                "index something first (mfa-ingest ingest/crawl) or check --index / MFA_INDEX_ALIAS")
    if isinstance(exc, NotAnAlias):  # a wrong argument (exit 2), not a wrong environment
        return (exc.reason, "name an alias with --index (or MFA_INDEX_ALIAS); `mfa-ingest versions` lists an alias's indices")
    if isinstance(exc, PipelineError) and getattr(exc, "hint", None):  # the error knows what to do about it
        return exc.reason, exc.hint
    if isinstance(exc, ConfigError):
        return (f"configuration error: {exc.reason}",
                "check the site profile (MFA_SITE_PROFILE, config/site.yaml) and the MFA_* settings")
    if isinstance(exc, ValidationError):
        return (f"invalid settings: {exc.errors()[0]['loc']}: {exc.errors()[0]['msg']}",
                "check the MFA_* variables (mfa-ingest settings prints them)")
    if isinstance(exc, IndexingError):
        return (f"{exc.kind}: {exc.reason}",
                "run the same command again when Elasticsearch answers: documents already indexed are skipped")
    if isinstance(exc, PipelineError):
        return f"{exc.kind}: {exc.reason}", "see --debug for where it happened"
    if isinstance(exc, FileNotFoundError):
        return f"no such file or folder: {exc.filename}", "check the path"
    return None


_running: list = []  # the report of the run in progress, printed (--json) when the run breaks off
_context: list = []  # the command's RunContext, once built (its settings name the node in error messages)


def run_report(name: str):
    """A RunReport for this command's run; if the run breaks off, ``--json`` still prints it."""
    from pipeline.report import RunReport

    report = RunReport(name=name)
    _running[:] = [report]
    return report


def run_context(report: str | None = None, **overrides):
    """The command's RunContext (pipeline.context), built once: the MFA_* settings with the command's
    ``overrides`` (None values ignored) and the profile they name; ``report``: the run's report name.
    Use it in a ``with`` block, which closes its Elasticsearch client."""
    from pipeline.context import RunContext

    ctx = RunContext.build(report=run_report(report) if report else None,
                           overrides={k: v for k, v in overrides.items() if v is not None})
    _context[:] = [ctx]
    return ctx


def guarded(func: Callable) -> Callable:
    """Run a command; an expected error becomes one or two lines and exit 3 (a bug: the traceback
    and exit 1). With ``--json`` a JSON object goes to stdout either way: the run's report so far
    when there is one, with ``ok: false``, the error and the hint."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        _running.clear()
        _context.clear()
        try:
            return func(*args, **kwargs)
        except (typer.Exit, typer.Abort, typer.BadParameter, SystemExit, KeyboardInterrupt, BrokenPipeError):
            raise  # a reader gone (| head) is the entry point's (pipeline.cli.main)
        except Exception as exc:
            known = explain(exc)
            if known is None or state.debug:
                traceback.print_exc()
            message, hint = known or (f"unexpected {type(exc).__name__}: {exc}", "a bug: please report it")
            if kwargs.get("as_json"):
                partial = _running[0].finish().model_dump(mode="json") if _running else {}
                from pipeline.store.client import error_kind

                kind = "tls_error" if error_kind(exc) == "tls" else getattr(exc, "kind", type(exc).__name__)
                typer.echo(json.dumps({**partial, "ok": False, "error": message, "hint": hint, "kind": kind},
                                      ensure_ascii=False))
            if known is None:
                raise typer.Exit(EXIT_FAILED)
            typer.echo(f"error: {message}", err=True)
            typer.echo(f"hint: {hint}" + ("" if state.debug else " (--debug for the traceback)"), err=True)
            raise typer.Exit(EXIT_USAGE if isinstance(exc, NotAnAlias) else EXIT_ENVIRONMENT)

    return wrapper


def command(*names, **kwargs) -> Callable:
    """``@command()`` = ``@app.command()`` with the expected errors turned into messages."""
    def register(func: Callable) -> Callable:
        return app.command(*names, **kwargs)(guarded(func))

    return register


def finish_run(report, *, as_json: bool, allow_failures: str | None, lines: int | None = None,
               problems: list[str] | None = None) -> None:
    """Print the report (text or JSON), one line per failure class on stderr, and exit.

    Exit 1 when any input failed beyond ``--allow-failures`` or there are run-level
    ``problems`` (site unreachable, blocked...: never tolerated), else 0.
    """
    if as_json:
        typer.echo(json.dumps(report.model_dump(mode="json"), ensure_ascii=False, indent=2))
    else:
        for line in report.summary_lines()[:lines]:
            typer.echo(line)
    for line in report.class_lines():
        typer.echo(line, err=True)
    for problem in problems or []:
        typer.echo(f"error: {problem}", err=True)
    if problems or not report.tolerates(allow_failures):
        raise typer.Exit(EXIT_FAILED)


def check_allowance(allow_failures: str | None) -> None:
    """Refuse a malformed ``--allow-failures`` before any work is done."""
    from pipeline.report import parse_allowance

    try:
        parse_allowance(allow_failures)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--allow-failures") from None


def progress_for(flag: bool | None):
    """The run's Progress (pipeline.progress); its log lines, when there is no bar, go to stderr."""
    from pipeline.progress import Progress, log

    if not log.handlers and not logging.getLogger().handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s progress: %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
    return Progress.wanted(flag)
