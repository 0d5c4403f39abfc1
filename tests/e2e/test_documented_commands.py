"""Every shell command README.md and docs/*.md show runs as written against the replica and the node.

The commands are read from the fenced blocks (every line of a ``bash``/``sh`` block; in an
unlabelled block, the lines that start with a command of ours), continuation lines joined.
Each block runs as one bash script (``set -euo pipefail``; a background job of the block is
stopped at its end) in a work folder that looks like a clone (the repository's entries linked,
``.state`` a fresh folder), with the environment a reader has after the README's set-up:
``MFA_ES_URL`` the test's node, a fresh alias, ``MFA_CRAWL_*`` pointing at a replica (the
replica's banner says to export them), Airflow's SQLite DB under ``.state``. Before the blocks
run, the sample is indexed and the replica crawled, so the queries have something to find.

What the test changes in a command, and why (nothing else):
- the ports 8081/8082 of the replica recipe become free ports (a fixed port may be taken on a
  shared machine);
- commands that need what a test cannot have are listed in SKIPPED with the reason; every other
  documented command must exit 0, and a new one is run from the day it is documented.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from mfa_replica.server import Replica
from tests.conftest import REPO
from tests.replica.plugin import replica_overrides

DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
SHELL_BLOCKS = ("bash", "sh", "shell")
OUR_COMMANDS = ("mfa-ingest ", "./scripts/", "scripts/", "cat page.html")

CLUSTER = "the Celery tier on this machine's fixed ports: tests/cluster/ runs it (scripts/cluster.sh up)"
SKIPPED = {
    "./scripts/test.sh": "the whole suite, this test among it",
    "scripts/airflow.sh connections add mfa_site --conn-type http --conn-host <site host> --conn-schema https":
        "a placeholder (<site host>) for the reader's site",
    "scripts/airflow.sh standalone": "a scheduler and API server that run until stopped",
    "MFA_ES_URL=http://127.0.0.1:9200 scripts/cluster.sh up": CLUSTER,
    "scripts/cluster.sh status": CLUSTER,
    "scripts/cluster.sh down": CLUSTER,
    "MFA_ES_URL=http://127.0.0.1:9200 MFA_CRAWL_RATE_PER_HOST=0.1 scripts/cluster.sh up":
        "a rolling restart of a running cluster: tests/cluster/test_operations.py runs `up` with a changed "
        "setting while a backfill's partitions run",
    "MFA_CLUSTER_DIR=/tmp/second": "a second cluster beside the first (tried by hand, about a minute up and down); "
                                   "tests/integration/test_cluster_env.py checks that its ports come from the variables",
    "source <(scripts/cluster.sh env)": "the cluster's environment, for the next line: tests/cluster/test_operations.py "
                                        "runs both against the running cluster",
    "airflow jobs check --job-type TriggererJob": "needs the running cluster: tests/cluster/test_operations.py runs it",
    "source .state/cluster/secrets.env": CLUSTER,
    "TOKEN=$(curl": CLUSTER,
    "curl -s -X PATCH http://127.0.0.1:8280": CLUSTER,
    "curl -s -X POST http://127.0.0.1:8280": CLUSTER,
    "cp docker/.env.example docker/.env": "the Docker deployment: no Docker engine on the test machine "
                                          "(tests/unit/test_docker_compose.py checks the file)",
    "docker compose": "no Docker engine on the test machine (tests/unit/test_docker_compose.py)",
    "mfa-ingest crawl --source wayback": "the Wayback Machine itself: no network in tests "
                                         "(the web-archive tests run crawl --source against a local pywb)",
    "mfa-ingest crawl --source commoncrawl": "Common Crawl itself: no network in tests (the web-archive "
                                             "tests read a local CDX server and WARC files)",
    "mfa-ingest kibana-import": "needs a Kibana (tests/unit/test_kibana_objects.py imports into a local endpoint)",
    "mfa-ingest check-site --base-url https://mid.ru [--section NAME]":
        "a synopsis (optional parts in brackets) naming the live site; tests/integration/test_check_site.py "
        "runs check-site against the replica",
    "mfa-ingest replica                                 # serve": "serves until Ctrl-C: run below, "
                                                                   "started and stopped (test_the_replica_command_serves)",
}
PORTS = ("8081", "8082")


def _skip_reason(command: str) -> str | None:
    return next((why for prefix, why in SKIPPED.items() if command.startswith(prefix)), None)


def _balanced(text: str) -> bool:
    try:
        shlex.split(text, comments=True)
    except ValueError:  # an open quote: the command goes on on the next line
        return False
    return True


def documented_blocks() -> list[tuple[str, list[str]]]:
    """(file:line, commands) per fenced block that holds commands."""
    blocks = []
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        for match in re.finditer(r"^```([\w-]*)\n(.*?)^```", text, re.S | re.M):
            lang, body = match.group(1), match.group(2)
            commands, pending = [], ""
            for line in body.splitlines():
                if not pending and (not line.strip() or line.lstrip().startswith("#")):
                    continue
                pending = f"{pending}\n{line}" if pending else line
                if pending.rstrip().endswith("\\") or not _balanced(pending):
                    continue
                if lang in SHELL_BLOCKS or pending.startswith(OUR_COMMANDS):
                    commands.append(pending)
                pending = ""
            if commands:
                line_no = text[:match.start()].count("\n") + 1
                blocks.append((f"{doc.relative_to(REPO)}:{line_no}", commands))
    return blocks


BLOCKS = documented_blocks()


def _free_port() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return str(sock.getsockname()[1])


@pytest.fixture(scope="module")
def reader(es, es_url, tmp_path_factory):
    """A work folder like a clone, the environment a reader has, the sample indexed, the replica crawled."""
    import uuid

    # The virtualenv is the clone's: brought up to date from the clone itself first, so that a
    # script run from the work folder (demo.sh, bootstrap.sh) finds it current and never
    # reinstalls the project from the work folder's path into it.
    subprocess.run([str(REPO / "scripts" / "bootstrap.sh")], check=True, capture_output=True, timeout=900)
    work = tmp_path_factory.mktemp("reader")
    for entry in REPO.iterdir():
        if entry.name not in (".state", ".git"):
            (work / entry.name).symlink_to(entry)
    (work / ".state").mkdir()
    replica = Replica().start()
    alias = f"mfa-test-{uuid.uuid4().hex[:10]}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MFA_", "AIRFLOW"))}
    env.update({"MFA_ES_URL": es_url, "MFA_INDEX_ALIAS": alias, "MFA_DEADLETTER_INDEX": f"{alias}-deadletter",
                "MFA_STATE_INDEX": f"{alias}-crawlstate", "MFA_STATE_DIR": str(work / ".state"),
                "PATH": f"{REPO / '.venv' / 'bin'}:{env.get('PATH', '')}", "MFA_NIGHTLY_SCHEDULE": "none",
                "MFA_VENV": str(REPO / ".venv")})
    for name, value in replica_overrides(replica).items():
        env[f"MFA_{name.upper()}"] = (f'["{value[0]}", "{value[1]}"]' if isinstance(value, list) else str(value))
    env["MFA_CRAWL_PROGRESS"] = "false"

    def run(script: str, timeout: int = 600, **changes: str) -> subprocess.CompletedProcess:
        return subprocess.run(["bash", "-c", script], cwd=work, env={**env, **changes}, capture_output=True,
                              text=True, timeout=timeout)

    # What a reader has done before the queries: the sample indexed, the site crawled (both sites).
    for setup in ("mfa-ingest ingest sample/dumps", "mfa-ingest crawl",
                  "mfa-ingest crawl --since 2017-01-01 --until 2020-12-31 --section archive_minister_speeches "
                  "--section archive_news"):
        done = run(setup)
        assert done.returncode == 0, (setup, done.stdout[-2000:], done.stderr[-2000:])
    # The docs' example page, their example WARC (one of the crawl's own) and the news URL of their
    # history example, archived like a crawled page so that a rebuild from the archives has it too.
    page = replica.article_url(replica.live_articles()[0])
    run(f"curl -s {page} > page.html")
    _corpus_csv(work)
    shutil.copy(sorted((work / ".state" / "warc").glob("*.warc.gz"))[0], work / "crawl.warc.gz")
    _archive_under_the_docs_url(work / ".state" / "warc" / "history-example.warc.gz", replica)
    done = run("mfa-ingest replay .state/warc/history-example.warc.gz")
    assert done.returncode == 0, done.stderr[-2000:]
    yield work, env, run
    replica.stop()
    for pattern in (f"{alias}*", "rebuilt*", "my-alias*"):  # the node refuses wildcard deletes
        names = list(es.indices.get(index=pattern, ignore_unavailable=True, expand_wildcards="all"))
        if names:
            es.indices.delete(index=",".join(names))


def _corpus_csv(work: Path) -> None:
    """The docs' public-corpus examples: ``lavrov.csv`` (columns named as in their ``--columns``) and a
    folder ``corpora/`` of a file with the default column names, each one row of the sample."""
    import csv

    text = (REPO / "sample" / "dumps" / "000_dcbbeb771279dad1.txt").read_text(encoding="utf-8")
    for path, header in ((work / "lavrov.csv", ["headline", "transcript", "day", "who"]),
                         (work / "corpora" / "speeches.csv", ["title", "text", "date", "speaker"])):
        path.parent.mkdir(exist_ok=True)
        with path.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(header)
            writer.writerow(["", text, "2020-12-01", "Sergey Lavrov"])


def _archive_under_the_docs_url(path: Path, replica: Replica) -> None:
    """docs/indexing.md's ``history`` example names a mid.ru news URL: the replica's news transcript,
    archived under that URL (the crawl archives the replica's own URLs)."""
    from io import BytesIO

    import requests
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    url = "https://mid.ru/en/foreign_policy/news/1817060/"
    news = next(a for a in replica.live_articles() if a.section == "news" and a.language == "en")
    body = requests.get(replica.article_url(news), timeout=10).content
    with path.open("wb") as fh:
        headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8"),
                                              ("Content-Length", str(len(body)))], protocol="HTTP/1.1")
        writer = WARCWriter(fh, gzip=True)
        writer.write_record(writer.create_warc_record(url, "response", payload=BytesIO(body), http_headers=headers))


def _script(commands: list[str], ports: dict[str, str]) -> str:
    lines = ["set -euo pipefail", "trap 'jobs -p | xargs -r kill 2>/dev/null || true' EXIT",
             "trap 'echo \"FAILED: $BASH_COMMAND\" >&2' ERR"]
    for command in commands:
        for documented, free in ports.items():
            command = command.replace(documented, free)
        lines.append(command)
        if command.rstrip().endswith("&"):
            lines.append("sleep 2")  # the background server is listening before the next command
    return "\n".join(lines) + "\n"


def test_the_docs_show_commands_and_every_skip_is_still_documented():
    commands = [c for _, block in BLOCKS for c in block]
    assert len(commands) > 40 and any(c.startswith("mfa-ingest crawl") for c in commands)
    for prefix in SKIPPED:  # a skip whose command left the docs goes too
        assert any(c.startswith(prefix) for c in commands), f"no documented command starts with {prefix!r}"


# A block made only of listed commands is not run at all (no skipped test): the test above
# still checks that each listed command is documented.
RUNNABLE = [(where, [c for c in block if _skip_reason(c) is None]) for where, block in BLOCKS]
RUNNABLE = [(where, commands) for where, commands in RUNNABLE if commands]


@pytest.mark.parametrize("where, runnable", RUNNABLE, ids=[where for where, _ in RUNNABLE])
def test_documented_commands_run_as_written(reader, where, runnable):
    work, env, run = reader
    ports = {p: _free_port() for p in PORTS}
    changes = {}
    if any(c.startswith("mfa-ingest replica ") for c in runnable):
        # A DAG pointed at a replica of its own starts from an empty index: the shared one's crawl
        # ledger holds the test replica's URLs, on ports that DAG's site connection does not allow.
        alias = f"{env['MFA_INDEX_ALIAS']}-own"
        changes = {"MFA_INDEX_ALIAS": alias, "MFA_STATE_INDEX": f"{alias}-crawlstate",
                   "MFA_DEADLETTER_INDEX": f"{alias}-deadletter"}
    done = run(_script(runnable, ports), timeout=900, **changes)
    errors = [line for line in (done.stdout + done.stderr).splitlines() if re.search(r"Exception|error", line)]
    assert done.returncode == 0, f"{where}: {done.stderr[-3000:]}\n{done.stdout[-2000:]}\n" + "\n".join(errors[:20])
    assert "Traceback" not in done.stderr, f"{where}: {done.stderr[-3000:]}"


def test_the_replica_command_serves(reader):
    """``mfa-ingest replica`` runs until Ctrl-C: started, its banner read, stopped."""
    work, env, _ = reader
    proc = subprocess.Popen(["mfa-ingest", "replica"], cwd=work, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        first = proc.stdout.readline()
        assert first.startswith("current site:  http://127.0.0.1:"), first
    finally:
        proc.terminate()
        proc.wait(timeout=30)
