"""Operating the Celery deployment (scripts/cluster.sh): what it listens on, its health, a rolling restart.

Every listener of the cluster is on 127.0.0.1 and on the port its configuration gives
(what ``status`` names), so a second cluster with other ports fits beside it; the
triggerer runs and the API's health (what the UI's home page shows) is green; an
``up`` with a changed environment restarts the Airflow processes without killing,
retrying or duplicating the partitions that run meanwhile, and the workers come back
with the new environment. Shares the one cluster of tests/cluster/conftest.py.
"""

from __future__ import annotations

import re
import subprocess
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import requests

from tests.conftest import assert_accounted

from .conftest import API_PORT, CLUSTER_SH, RUN_TIMEOUT, TODAY, by_article, in_range, urls

STATUS_LINE = re.compile(r"^(?P<name>[\w-]+): (?P<state>running|stopped)(?: \(pid (?P<pid>\d+)\))?"
                         r"(?:,? (?:listens|would listen) on (?P<addr>[\d.]+:\d+))?$")


def status(cluster) -> dict[str, dict]:
    """``cluster.sh status`` as name -> {state, pid, addr}: each process and the address it says it listens on."""
    out = subprocess.run([str(CLUSTER_SH), "status"], env=cluster["env"], capture_output=True, text=True,
                         timeout=120).stdout
    found = {}
    for line in out.splitlines():
        if m := STATUS_LINE.match(line):
            found[m["name"]] = {"state": m["state"], "pid": int(m["pid"]) if m["pid"] else None, "addr": m["addr"]}
    return found


def _listening(pid: int) -> set[str]:
    """'address:port' of every socket the process and its children listen on (TCP, IPv4 and IPv6)."""
    import psutil

    try:
        procs = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
    except psutil.NoSuchProcess:
        return set()
    out = set()
    for proc in procs:
        try:
            out |= {f"{c.laddr.ip}:{c.laddr.port}" for c in proc.net_connections(kind="inet")
                    if c.status == psutil.CONN_LISTEN}
        except psutil.NoSuchProcess:
            continue
    return out


def configured(env: dict) -> dict[str, str]:
    """The listen address of each process, from the cluster's configuration (the script's defaults)."""
    def port(name: str, default: int) -> int:
        return int(env.get(f"MFA_CLUSTER_{name}_PORT") or default)

    log_port, workers = port("LOG", 8794), int(env.get("MFA_CLUSTER_WORKERS") or 2)
    return {"postgres": f"127.0.0.1:{port('PG', 5433)}", "redis": f"127.0.0.1:{port('REDIS', 6380)}",
            "api-server": f"127.0.0.1:{port('API', 8280)}",
            **{f"logs-worker{n}": f"127.0.0.1:{log_port + n - 1}" for n in range(1, workers + 1)}}


AIRFLOW_PROCESSES = ("scheduler", "dag-processor", "api-server", "triggerer", "worker1", "worker2")


def test_every_listener_is_on_loopback_and_on_its_configured_port(cluster):
    """The workers' task-log servers once listened on every interface, on fixed ports (8794/8795):
    open to the network and clashing with a second cluster on the machine. Every process the
    cluster starts listens exactly where ``status`` says, and that is the configured port."""
    procs = status(cluster)
    assert set(AIRFLOW_PROCESSES) | {"postgres", "redis", "logs-worker1", "logs-worker2"} <= set(procs), procs
    assert all(p["state"] == "running" for p in procs.values()), procs
    said = {name: p["addr"] for name, p in procs.items() if p["addr"]}
    assert said == configured(cluster["env"])
    heard = {name: _listening(p["pid"]) for name, p in procs.items()}
    print(f"\nlisteners: { {name: sorted(a) for name, a in heard.items() if a} }")
    assert heard == {name: ({said[name]} if name in said else set()) for name in procs}


def health(base: str) -> dict:
    return requests.get(f"{base}/api/v2/monitor/health", timeout=30).json()


def all_healthy(base: str, within: float = 60.0) -> dict:
    """The API's health once every component (the triggerer included) is healthy, or as last seen."""
    deadline = time.monotonic() + within
    while True:
        try:
            seen = health(base)
        except requests.RequestException as exc:
            seen = {"api": str(exc)}
        if all(isinstance(v, dict) and v.get("status") == "healthy" for v in seen.values()) or \
                time.monotonic() > deadline:
            return seen
        time.sleep(1)


def test_the_triggerer_runs_and_the_health_is_green(cluster):
    """Without a triggerer the Airflow UI's home page shows the component red."""
    seen = all_healthy(cluster["api"].base)
    assert seen.get("triggerer", {}).get("status") == "healthy", seen
    assert {k for k, v in seen.items() if isinstance(v, dict) and v.get("status") == "healthy"} >= \
        {"metadatabase", "scheduler", "triggerer", "dag_processor"}, seen
    # and as an operator checks it by hand, with the environment `cluster.sh env` prints
    check = subprocess.run(["bash", "-c", f"source <('{CLUSTER_SH}' env) && airflow jobs check --job-type TriggererJob"],
                           env=cluster["env"], capture_output=True, text=True, timeout=120)
    assert check.returncode == 0 and "alive" in check.stdout, (check.stdout, check.stderr[-2000:])


def environ(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(e.decode(errors="replace").split("=", 1) for e in raw if b"=" in e)


def pids(cluster) -> dict[str, int]:
    run = cluster["cluster_dir"] / "run"
    return {name: int((run / f"{name}.pid").read_text()) for name in AIRFLOW_PROCESSES}


def running_on(api, run_id: str) -> list[dict]:
    """The partitions running now, each with the worker it runs on (waiting a minute at most for
    an API server that is restarting)."""
    deadline = time.monotonic() + 60
    while True:
        try:
            return [ti for ti in api.mapped("mfa_backfill", run_id, "run_partition")
                    if ti["state"] == "running" and ti["hostname"]]
        except (requests.RequestException, AssertionError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def span(stamp: str | None, t0: datetime) -> float | None:
    """Seconds from t0 to an API timestamp."""
    return round((datetime.fromisoformat(stamp) - t0).total_seconds()) if stamp else None


def test_a_rolling_restart_lets_running_partitions_finish(fresh, es, cluster_replica):
    """``up`` with a changed environment (the documented restart) while partitions run: none is
    killed or retried, nothing is indexed twice, the report accounts for every input, and the
    Airflow processes run with the new environment afterwards. It once cost every running
    partition a retry: the API server, which running tasks heartbeat to, went down with the
    scheduler, and the new scheduler failed them for their missing heartbeats."""
    api, alias, cluster = fresh["api"], fresh["alias"], fresh
    # every answer of the replica 0.15 s late: a month's partition runs long enough to be caught by a drain
    cluster_replica.add_fault("slow", match="/", count=100000, arg=0.15)
    since, until = TODAY - timedelta(days=45), TODAY
    run_id = api.trigger("mfa_backfill", {"since": since.isoformat(), "until": until.isoformat()})
    deadline = time.monotonic() + RUN_TIMEOUT
    while len(running_on(api, run_id)) < 2:  # partitions on both workers, or two on one
        assert time.monotonic() < deadline, "no two partitions were ever seen running"
        time.sleep(0.2)
    before = pids(cluster)
    changed = {**cluster["env"], "MFA_CRAWL_USER_AGENT": f"mfa-ingest-rolled/{run_id[-8:]}"}
    started, t0 = time.monotonic(), datetime.now(timezone.utc)
    restart = subprocess.Popen([str(CLUSTER_SH), "up"], env=changed, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    said, drained = [], []  # (worker, partitions running on it when its drain began)
    for line in restart.stdout:
        said.append(f"{time.monotonic() - started:.0f}s {line.rstrip()}")
        if m := re.search(r"draining (worker\d+)", line):
            drained.append((m[1], [ti["map_index"] for ti in running_on(api, run_id) if ti["hostname"] == m[1]]))
    assert restart.wait(timeout=RUN_TIMEOUT) == 0, "\n".join(said)
    restarted = time.monotonic()  # every old worker is gone by now
    took = restarted - started
    cluster["env"].update(changed)  # the cluster's environment from now on (later `up`s keep it)
    assert api.wait("mfa_backfill", run_id) == "success"
    instances = api.mapped("mfa_backfill", run_id, "run_partition")
    caught = [i for _, idx in drained for i in idx]
    print("\n" + "\n".join(said))
    print(f"rolling restart: {took:.0f}s; partitions running on a worker when it began to drain: {drained}; "
          f"tries {[(ti['map_index'], ti['hostname'], ti['try_number']) for ti in instances]}; "
          f"partitions (start, end) from the restart: {[(span(ti['start_date'], t0), span(ti['end_date'], t0)) for ti in instances]}")
    assert caught, f"no partition was running on a worker when it drained: {said}"
    assert [(ti["state"], ti["try_number"]) for ti in instances] == [("success", 1)] * len(instances)
    for worker, idx in drained:  # each caught partition finished where it ran, in its first try
        assert all(instances[i]["hostname"] == worker for i in idx), (worker, idx, instances)
    expected = in_range(cluster_replica, since, until)
    assert by_article(urls(es, alias)) == by_article(expected) and expected  # each once: no duplicate
    totals = api.xcom("mfa_backfill", run_id, "total")
    assert_accounted(totals)
    assert totals["failed"] == 0 and totals["new"] == len(expected), totals
    after = pids(cluster)
    assert all(after[n] != before[n] for n in ("worker1", "worker2")), (before, after)
    # the API server, which running tasks report to, served throughout: the pipeline's settings are not its business
    assert after["api-server"] == before["api-server"]
    # the scheduler's side as /proc shows it (a Celery worker's process title overwrites that memory) ...
    assert {n: environ(after[n]).get("MFA_CRAWL_USER_AGENT") for n in ("scheduler", "dag-processor", "triggerer")} \
        == dict.fromkeys(("scheduler", "dag-processor", "triggerer"), changed["MFA_CRAWL_USER_AGENT"])
    # ... and the workers by what their tasks do: a partition after the restart asks the site as the new
    # agent (a day before the range, with a transcript: new documents, whatever a re-run would count)
    day = max(a.published.date() for a in cluster_replica.live_articles() if a.published.date() < since)
    again = api.trigger("mfa_backfill", {"since": day.isoformat(), "until": day.isoformat()})
    assert api.wait("mfa_backfill", again) == "success"
    agents = Counter(h.headers.get("user-agent") for h in cluster_replica.hits() if h.at > restarted)
    assert set(agents) == {changed["MFA_CRAWL_USER_AGENT"]}, agents
    seen = all_healthy(f"http://127.0.0.1:{API_PORT}")
    assert all(isinstance(v, dict) and v.get("status") == "healthy" for v in seen.values()), seen


def test_fewer_workers_drain_and_stop_the_extra_ones(cluster):
    """``up`` with MFA_CLUSTER_WORKERS lowered drains and stops the workers past it (and their log
    servers) and restarts nothing else; ``status`` (and so ``down``, which stops what it lists)
    still sees such a worker while it runs. Back to two workers afterwards."""
    import psutil

    def alive(pid: int | None) -> bool:
        return pid is not None and psutil.pid_exists(pid) and psutil.Process(pid).status() != psutil.STATUS_ZOMBIE

    env, fewer = cluster["env"], {**cluster["env"], "MFA_CLUSTER_WORKERS": "1"}
    before = status(cluster)
    assert before["worker2"]["state"] == before["logs-worker2"]["state"] == "running", before
    assert status({**cluster, "env": fewer})["worker2"] == before["worker2"], "down would leave it running"
    try:
        done = subprocess.run([str(CLUSTER_SH), "up"], env=fewer, capture_output=True, text=True, timeout=RUN_TIMEOUT)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "draining worker2" in done.stderr and "restarting" not in done.stderr, done.stderr
        assert not alive(before["worker2"]["pid"]) and not alive(before["logs-worker2"]["pid"])
        now = status({**cluster, "env": fewer})
        assert "worker2" not in now and "logs-worker2" not in now, now
        assert all(now[name]["pid"] == before[name]["pid"] for name in ("worker1", "scheduler", "api-server")), now
    finally:  # the two workers the other tests want, whatever failed above (said there)
        subprocess.run([str(CLUSTER_SH), "up"], env=env, capture_output=True, timeout=RUN_TIMEOUT)
    assert status(cluster)["worker2"]["state"] == "running"
