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

from tests.conftest import REPO, SAMPLE_DUMPS, assert_accounted

CLI = str(REPO / ".venv" / "bin" / "mfa-ingest")


def run_cli(*args, settings, cwd=None, **env) -> subprocess.CompletedProcess:
    """The command's result, stdout and stderr as bytes (a raw 0xff must show)."""
    full = {**os.environ, "MFA_INDEX_ALIAS": settings.index_alias, "MFA_DEADLETTER_INDEX": settings.deadletter_index,
            "MFA_STATE_INDEX": settings.state_index, "MFA_STATE_DIR": str(settings.state_dir),
            **{k: str(v) for k, v in env.items()}}
    return subprocess.run([CLI, *[a if isinstance(a, bytes) else str(a) for a in args]], env=full,
                          capture_output=True, timeout=300, cwd=cwd)


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
    assert_accounted(report)
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


# --- inputs that are no archive; dead-letter files private and capped ------------------------

@pytest.fixture
def home(tmp_path):
    """A home folder holding what a real one holds: dumps, a virtualenv, the state folder with
    the node's password, the checkout's own files."""
    home = tmp_path / "home"
    (home / "dumps").mkdir(parents=True)
    for name in sorted(p.name for p in SAMPLE_DUMPS.iterdir())[:2]:
        shutil.copyfile(SAMPLE_DUMPS / name, home / "dumps" / name)
    (home / ".venv" / "lib").mkdir(parents=True)
    (home / ".venv" / "lib" / "junk.py").write_text("print('not a transcript')\n")
    secure = home / "state" / "es" / "secure"
    secure.mkdir(parents=True)
    (secure / "elastic.password").write_text("Sup3r-s3cret-pw\n")
    (home / "state" / "deadletter").mkdir()
    return home


def refused(done) -> str:
    err = done.stderr.decode()
    assert done.returncode == 2, err
    assert "Traceback" not in err
    return err


@pytest.mark.parametrize("where", ["empty", "dot", "home", "root", "state", "state-file", "above-state"])
def test_a_folder_that_is_no_archive_is_refused_without_yes(settings, home, where):
    state = home / "state"
    path = {"empty": "", "dot": ".", "home": str(home), "root": "/", "state": str(state),
            "state-file": str(state / "es" / "secure" / "elastic.password"), "above-state": str(home)}[where]
    done = run_cli("ingest", path, settings=settings.model_copy(update={"state_dir": state}), cwd=home, HOME=home)
    err = refused(done)
    assert "--yes" in err or "never" in err, err
    assert b"Sup3r" not in done.stdout + done.stderr


def test_with_yes_a_home_folder_is_read_without_its_hidden_folders_state_or_secrets(es, settings, home):
    state = home / "state"
    done = run_cli("ingest", home, "--yes", "--json", settings=settings.model_copy(update={"state_dir": state}),
                   cwd=home, HOME=home)
    report = json.loads(done.stdout)
    assert_accounted(report)
    assert (report["read"], report["indexed"]) == (2, 2), report  # the two dumps; no .venv, nothing of the state folder
    es.indices.refresh(index=settings.deadletter_index)
    assert b"Sup3r" not in done.stdout + done.stderr


def test_the_secret_files_of_the_state_folder_are_never_read_even_with_yes(settings, home):
    state = home / "state"
    done = run_cli("ingest", state / "es", "--yes", settings=settings.model_copy(update={"state_dir": state}),
                   cwd=home, HOME=home)
    refused(done)
    assert b"Sup3r" not in done.stdout + done.stderr
    assert not any((state / "deadletter").iterdir())


def test_dead_letter_files_are_private_and_capped(es, settings, tmp_path):
    junk = tmp_path / "junk"
    junk.mkdir()
    for i in range(6):
        (junk / f"j{i}.txt").write_bytes(bytes([i]) * 3000)  # binary: every one is refused
    done = run_cli("ingest", junk, "--json", settings=settings, MFA_DEADLETTER_MAX_BYTES=10000)
    report = json.loads(done.stdout)
    assert report["failed"] == 6 and report["read"] == 6
    [file] = (settings.state_dir / "deadletter").iterdir()
    assert stat.S_IMODE(file.stat().st_mode) == 0o600
    letters = [json.loads(line) for line in file.read_text().splitlines()]
    assert len(letters) == 6  # every failure is recorded ...
    assert file.stat().st_size <= 10000 + 6 * 1000  # ... the evidence only under the cap
    dropped = [d for d in letters if "raw_base64" not in d]
    assert dropped and all(d["raw_truncated"] for d in dropped)
    assert all(d["bytes_dropped"] == "over the dead-letter file's byte budget" for d in dropped)
    assert report["extra"]["deadletter_raw_dropped"] == len(dropped)
    assert report["extra"]["deadletter_max_bytes"] == 10000
