"""What `ingest` accepts as input and as --index: a file name with bytes that are not UTF-8 is
one input like the others; an index name Elasticsearch would refuse is a clear exit 2 on every
command that takes --index; folders that are no archive (empty path, ., a home or root folder,
the state folder) are refused or need --yes; dead-letter files are private and capped."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess

import pytest

from tests.conftest import REPO, SAMPLE_DUMPS

CLI = str(REPO / ".venv" / "bin" / "mfa-ingest")


def run_cli(*args, settings, cwd=None, **env) -> subprocess.CompletedProcess:
    """The command's result, stdout and stderr as bytes (a raw 0xff must show)."""
    full = {**os.environ, "MFA_INDEX_ALIAS": settings.index_alias, "MFA_DEADLETTER_INDEX": settings.deadletter_index,
            "MFA_STATE_INDEX": settings.state_index, "MFA_STATE_DIR": str(settings.state_dir),
            **{k: str(v) for k, v in env.items()}}
    return subprocess.run([CLI, *[a if isinstance(a, bytes) else str(a) for a in args]], env=full,
                          capture_output=True, timeout=300, cwd=cwd)


def assert_outcomes_add_up(report: dict) -> None:
    assert report["read"] == report["new"] + report["updated"] + report["unchanged"] + report["superseded"] \
        + report["failed"], report


def test_a_file_name_that_is_not_utf8_is_one_input_among_others(es, settings, tmp_path):
    folder = tmp_path / "dumps"
    folder.mkdir()
    names = sorted(p.name for p in SAMPLE_DUMPS.iterdir())[:3]
    for i, name in enumerate(names):
        target = os.fsencode(folder / name) if i != 1 else os.fsencode(folder) + b"/bad\xff" + name.encode()
        shutil.copyfile(SAMPLE_DUMPS / name, target)
    done = run_cli("ingest", folder, "--json", settings=settings)
    report = json.loads(done.stdout.decode("utf-8"))  # strict: a raw 0xff byte is not JSON
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")
    assert (report["read"], report["indexed"], report["failed"]) == (3, 3, 0)
    assert_outcomes_add_up(report)
    es.indices.refresh(index=settings.index_alias)
    sources = {s for h in es.search(index=settings.index_alias, size=10)["hits"]["hits"] for s in h["_source"]["sources"]}
    assert any("bad\\xff" in s for s in sources), sources  # the byte, spelled so it can be read


BAD_NAMES = {"Upper": "lower case", "a,b": "','", "a b": "' '", "mfa-*": "'*'", "x" * 300: "bytes",
             "-dash": "start", "": "empty"}
COMMANDS = [["ingest", str(SAMPLE_DUMPS)], ["search", "x"], ["stats"], ["versions"], ["reindex"], ["rollback"],
            ["history", "x"], ["redrive"], ["crawl", "--since", "2021-12-01", "--until", "2021-12-01"]]


CASES = [(["ingest", str(SAMPLE_DUMPS)], name) for name in BAD_NAMES] + [(c, n) for c in COMMANDS[1:] for n in ("Upper", "a,b")]


@pytest.mark.parametrize("command, name", CASES, ids=[f"{c[0]}-{n[:8]}" for c, n in CASES])
def test_an_invalid_index_name_is_a_clear_exit_2(settings, command, name):
    done = run_cli(*command, "--index", name, settings=settings)
    err = done.stderr.decode()
    assert done.returncode == 2, err
    assert "Traceback" not in err and "please report" not in err
    assert "--index" in err and BAD_NAMES[name] in err, err


def test_a_concrete_index_where_an_alias_is_expected_is_a_clear_exit_2(es, settings):
    concrete = f"{settings.index_alias}-plain"
    es.indices.create(index=concrete)
    for command in (["ingest", str(SAMPLE_DUMPS)], ["reindex"], ["rollback"]):
        done = run_cli(*command, "--index", concrete, settings=settings)
        err = done.stderr.decode()
        assert done.returncode == 2, (command, err)
        assert "concrete index, not an alias" in err and "Traceback" not in err, err
