#!/usr/bin/env bash
# A real Airflow deployment on one machine, on the CeleryExecutor: PostgreSQL (metadata),
# Redis (Celery broker), the scheduler, the DAG processor, the API server, the triggerer and
# MFA_CLUSTER_WORKERS (default 2) Celery workers, each a process of its own.
#
#   scripts/cluster.sh up       install what is missing, start what is not running, wait until ready
#   scripts/cluster.sh down     stop everything `up` started (data is kept)
#   scripts/cluster.sh status   each process with the address it listens on, and the Celery workers that answer a ping
#   scripts/cluster.sh env      export lines of the cluster's Airflow environment, the database and the
#                               virtualenv's bin/ included:
#                               source <(scripts/cluster.sh env); airflow dags trigger mfa_backfill
#
# Ports (all on 127.0.0.1): MFA_CLUSTER_PG_PORT (5433), MFA_CLUSTER_REDIS_PORT (6380),
# MFA_CLUSTER_API_PORT (8280), MFA_CLUSTER_LOG_PORT (8794: worker N's task logs on +N-1);
# nothing else listens. Everything lives under .state/cluster: pg/ (PostgreSQL data),
# redis/, airflow/ (AIRFLOW_HOME), logs/ (one log per process), run/ (pid files, each
# process's environment digest, sockets), secrets.env (generated passwords and keys,
# mode 600). Idempotent: `up` on a running cluster returns at once, unless the
# MFA_*/AIRFLOW_CONN_*/AIRFLOW__* environment a process was started with changed: then
# those processes restart with the new one (PostgreSQL and Redis keep running), without
# killing a running task: first the workers one at a time, each after a warm shutdown (it
# takes no new task, its running ones finish: at most MFA_CLUSTER_DRAIN_TIMEOUT seconds),
# the next once the restarted one is ready; then the scheduler, DAG processor and
# triggerer at once (no task runs in them). The API server, which running tasks report to
# (heartbeats, their end), restarts only when Airflow's own configuration (AIRFLOW__*)
# changed, and then after every worker drained. The Airflow processes get the caller's
# MFA_* variables: that is how the pipeline in the workers is configured. MFA_CLUSTER_WORKERS
# lowered, `up` drains and stops the workers past it (the others keep running); `down` and
# `status` also see workers a higher number started (their pid files in run/).
# As root, PostgreSQL runs as the system user `postgres` (it refuses root).
set -euo pipefail
source "$(dirname "$0")/env.sh"

CLUSTER_DIR="${MFA_CLUSTER_DIR:-$MFA_STATE_DIR/cluster}"
PG_PORT="${MFA_CLUSTER_PG_PORT:-5433}"
REDIS_PORT="${MFA_CLUSTER_REDIS_PORT:-6380}"
API_PORT="${MFA_CLUSTER_API_PORT:-8280}"
LOG_PORT="${MFA_CLUSTER_LOG_PORT:-8794}"  # worker N serves its task logs on LOG_PORT + N - 1
WORKERS="${MFA_CLUSTER_WORKERS:-2}"
WORKER_CONCURRENCY="${MFA_CLUSTER_WORKER_CONCURRENCY:-2}"
READY_TIMEOUT="${MFA_CLUSTER_TIMEOUT:-180}"
DRAIN_TIMEOUT="${MFA_CLUSTER_DRAIN_TIMEOUT:-3600}"  # seconds a worker may take to finish its tasks on a restart
RUN="$CLUSTER_DIR/run"
LOGS="$CLUSTER_DIR/logs"
PGDATA="$CLUSTER_DIR/pg"
SECRETS="$CLUSTER_DIR/secrets.env"
PG_USER="${MFA_CLUSTER_PG_USER:-postgres}"

# --- system packages (Debian): PostgreSQL and Redis servers -----------------------------

pg_bindir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }

install_packages() {
  local missing=()
  [ -n "$(pg_bindir)" ] || missing+=(postgresql)
  command -v redis-server >/dev/null || missing+=(redis-server)
  [ "${#missing[@]}" = 0 ] && return
  command -v apt-get >/dev/null || mfa_die "install ${missing[*]} (no apt-get here)"
  [ "$(id -u)" = 0 ] || mfa_die "install ${missing[*]} (needs root: sudo apt-get install ${missing[*]})"
  mfa_say "installing ${missing[*]} (apt-get)"
  # The packages' own services (5432, 6379) are not ours; we start our own on other ports.
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >"$LOGS/apt.log" 2>&1 \
    || { apt-get update -q >>"$LOGS/apt.log" 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >>"$LOGS/apt.log" 2>&1; } \
    || { tail -n 20 "$LOGS/apt.log" >&2; mfa_die "apt-get install ${missing[*]} failed"; }
}

# --- secrets: generated once, kept in a file only the owner reads -------------------------

ensure_secrets() {
  if [ ! -s "$SECRETS" ]; then
    (umask 077 && "$MFA_VENV/bin/python" - >"$SECRETS" <<'PY'
import base64, os, secrets
for name in ("PG_PASSWORD", "REDIS_PASSWORD", "ADMIN_PASSWORD", "JWT_SECRET", "API_SECRET_KEY"):
    print(f"{name}={secrets.token_urlsafe(24)}")
print("FERNET_KEY=" + base64.urlsafe_b64encode(os.urandom(32)).decode())
PY
    )
  fi
  # shellcheck disable=SC1090
  source "$SECRETS"
}

# --- the environment every Airflow process of the cluster gets ---------------------------

airflow_env() {
  export AIRFLOW_HOME="$CLUSTER_DIR/airflow"
  export AIRFLOW__CORE__EXECUTOR=CeleryExecutor
  export AIRFLOW__DATABASE__SQL_ALCHEMY_CONN="postgresql+psycopg2://airflow:$PG_PASSWORD@127.0.0.1:$PG_PORT/airflow"
  export AIRFLOW__CELERY__BROKER_URL="redis://:$REDIS_PASSWORD@127.0.0.1:$REDIS_PORT/0"
  export AIRFLOW__CELERY__RESULT_BACKEND="db+postgresql+psycopg2://airflow:$PG_PASSWORD@127.0.0.1:$PG_PORT/airflow"
  export AIRFLOW__CELERY__WORKER_CONCURRENCY="$WORKER_CONCURRENCY"
  # A message a dead worker took is handed out again after this long; a dead task is
  # found sooner by its missing heartbeats (scheduler) and retried, so keep it long.
  export AIRFLOW__CELERY_BROKER_TRANSPORT_OPTIONS__VISIBILITY_TIMEOUT="${AIRFLOW__CELERY_BROKER_TRANSPORT_OPTIONS__VISIBILITY_TIMEOUT:-21600}"
  export AIRFLOW__LOGGING__BASE_LOG_FOLDER="$AIRFLOW_HOME/logs"
  export AIRFLOW__CORE__FERNET_KEY="$FERNET_KEY"
  export AIRFLOW__API__HOST=127.0.0.1
  export AIRFLOW__API__PORT="$API_PORT"
  export AIRFLOW__API__WORKERS=1
  export AIRFLOW__API__BASE_URL="http://127.0.0.1:$API_PORT"
  export AIRFLOW__API__SECRET_KEY="$API_SECRET_KEY"
  export AIRFLOW__API_AUTH__JWT_SECRET="$JWT_SECRET"
  export AIRFLOW__CORE__EXECUTION_API_SERVER_URL="http://127.0.0.1:$API_PORT/execution/"
  # The simple auth manager: one admin whose password we generate (file read by the API server).
  export AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS="admin:admin"
  export AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE="$AIRFLOW_HOME/simple_auth_manager_passwords.json"
  export AIRFLOW__CORE__LOAD_EXAMPLES=False
  export AIRFLOW__CORE__DAGS_FOLDER="$MFA_REPO/dags"
  # Task instances record MFA_WORKER_HOSTNAME (set per worker below), not the shared machine name.
  export AIRFLOW__CORE__HOSTNAME_CALLABLE=mfa_airflow.worker_hostname
}

# --- processes: one pid file per process, each in its own process group ------------------

alive() { [ -f "$RUN/$1.pid" ] && kill -0 "$(cat "$RUN/$1.pid")" 2>/dev/null; }

start_proc() {  # NAME CMD...: start CMD detached, log to logs/NAME.log, unless it runs already
  local name="$1"; shift
  if alive "$name"; then return; fi
  # setsid: its own process group, so `down` stops the children too (task processes, gunicorn...)
  setsid "$@" >>"$LOGS/$name.log" 2>&1 </dev/null &
  echo $! >"$RUN/$name.pid"
  wanted_env "$name" >"$RUN/$name.env"  # what `up` compares with next time
}

stop_procs() {  # NAME...: TERM them all at once, then wait up to 30 s for each (KILL after)
  local name pid deadline=$((SECONDS + 30))
  for name in "$@"; do
    [ -f "$RUN/$name.pid" ] || continue
    pid="$(cat "$RUN/$name.pid")"
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  done
  for name in "$@"; do
    [ -f "$RUN/$name.pid" ] || continue
    pid="$(cat "$RUN/$name.pid")"
    while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.2; done
    kill -KILL -- "-$pid" 2>/dev/null || true
    rm -f "$RUN/$name.pid" "$RUN/$name.env"
  done
}

worker_names() { local i; for i in $(seq "$WORKERS"); do echo "worker$i"; done; }
extra_workers() {  # workers a pid file names beyond MFA_CLUSTER_WORKERS (started when it was higher)
  local f n
  for f in "$RUN"/worker*.pid; do
    n="$(basename "$f" .pid)"; n="${n#worker}"
    if [ -e "$f" ] && [[ "$n" =~ ^[0-9]+$ ]] && [ "$n" -gt "$WORKERS" ]; then echo "worker$n"; fi
  done | sort -V
}
# Every Airflow process, the extra workers included (`down` and `status` see them too).
airflow_procs() {
  echo scheduler dag-processor api-server triggerer
  { worker_names; extra_workers; } | sed 'p; s/^/logs-/'
}

listen_addr() {  # NAME: the one address the process listens on (none for the others)
  case "$1" in
    postgres) echo "127.0.0.1:$PG_PORT" ;;
    redis) echo "127.0.0.1:$REDIS_PORT" ;;
    api-server) echo "127.0.0.1:$API_PORT" ;;
    logs-worker*) echo "127.0.0.1:$((LOG_PORT + ${1#logs-worker} - 1))" ;;
  esac
}

# --- PostgreSQL --------------------------------------------------------------------------

as_pg_user() {  # run a command line as the PostgreSQL user when we are root
  if [ "$(id -u)" = 0 ]; then (cd / && su -s /bin/bash "$PG_USER" -c "$1"); else bash -c "$1"; fi
}

pg_up() {
  local bin; bin="$(pg_bindir)"
  if [ "$(id -u)" = 0 ]; then
    id "$PG_USER" >/dev/null 2>&1 || mfa_die "the PostgreSQL package did not create the user $PG_USER"
    # run/ holds the server's socket, on which the local superuser needs no password: owner only
    mkdir -p "$PGDATA" && chown "$PG_USER" "$PGDATA" "$RUN" && chmod 700 "$PGDATA" "$RUN"
    touch "$LOGS/postgres.log" && chown "$PG_USER" "$LOGS/postgres.log"
    as_pg_user "test -w '$PGDATA'" || mfa_die "$PG_USER cannot write $PGDATA (set MFA_CLUSTER_DIR to a folder it can reach)"
  fi
  if [ ! -f "$PGDATA/PG_VERSION" ]; then
    mfa_say "creating the PostgreSQL cluster in $PGDATA"
    local pw="$RUN/pg-superuser.pw"
    (umask 077 && echo "$PG_PASSWORD" >"$pw") && [ "$(id -u)" != 0 ] || chown "$PG_USER" "$pw"
    as_pg_user "'$bin/initdb' -D '$PGDATA' -U postgres --auth-local=trust --auth-host=scram-sha-256 --pwfile='$pw' -E UTF8" \
      >"$LOGS/initdb.log" 2>&1 || { tail -n 20 "$LOGS/initdb.log" >&2; mfa_die "initdb failed"; }
    rm -f "$pw"
  fi
  if ! as_pg_user "'$bin/pg_ctl' -D '$PGDATA' status" >/dev/null 2>&1; then
    mfa_say "starting PostgreSQL on 127.0.0.1:$PG_PORT"
    as_pg_user "'$bin/pg_ctl' -D '$PGDATA' -l '$LOGS/postgres.log' -w -t 60 \
      -o \"-p $PG_PORT -c listen_addresses=127.0.0.1 -k '$RUN'\" start" >/dev/null \
      || { tail -n 20 "$LOGS/postgres.log" >&2; mfa_die "PostgreSQL did not start"; }
  fi
  # The airflow role and database (the socket in run/, peer-free 'trust' for the local superuser).
  local psql="'$bin/psql' -h '$RUN' -p $PG_PORT -U postgres -d postgres -v ON_ERROR_STOP=1 -qtA"
  if [ "$(as_pg_user "$psql -c \"SELECT 1 FROM pg_roles WHERE rolname='airflow'\"")" != 1 ]; then
    as_pg_user "$psql -c \"CREATE ROLE airflow LOGIN PASSWORD '$PG_PASSWORD'\""
  fi
  if [ "$(as_pg_user "$psql -c \"SELECT 1 FROM pg_database WHERE datname='airflow'\"")" != 1 ]; then
    as_pg_user "$psql -c 'CREATE DATABASE airflow OWNER airflow'"
  fi
}

pg_down() {
  local bin; bin="$(pg_bindir)"
  [ -n "$bin" ] && [ -f "$PGDATA/postmaster.pid" ] || return 0
  as_pg_user "'$bin/pg_ctl' -D '$PGDATA' -m fast -w stop" >/dev/null 2>&1 || true
}

# --- Redis -------------------------------------------------------------------------------

redis_up() {
  if alive redis; then return; fi
  mkdir -p "$CLUSTER_DIR/redis"
  mfa_say "starting Redis on 127.0.0.1:$REDIS_PORT"
  # The password on the command line would show in ps: give it through a config file instead.
  (umask 077 && cat >"$RUN/redis.conf" <<CONF
bind 127.0.0.1
port $REDIS_PORT
dir $CLUSTER_DIR/redis
requirepass $REDIS_PASSWORD
daemonize no
logfile ""
CONF
  )
  start_proc redis redis-server "$RUN/redis.conf"
  for _ in $(seq 50); do
    REDISCLI_AUTH="$REDIS_PASSWORD" redis-cli -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG && return
    sleep 0.2
  done
  tail -n 20 "$LOGS/redis.log" >&2; mfa_die "Redis did not start"
}

# --- Airflow -----------------------------------------------------------------------------

airflow_init() {
  local pool; pool="$(python -c 'import mfa_airflow as m; print(m.INDEX_WRITES_POOL, m.INDEX_WRITES_SLOTS)')"
  local want; want="$(python -c 'import importlib.metadata as m; print(m.version("apache-airflow"))') $pool"
  local stamp="$AIRFLOW_HOME/.mfa-migrated"
  mkdir -p "$AIRFLOW_HOME"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    mfa_say "migrating the Airflow metadata database (PostgreSQL)"
    { airflow db migrate && airflow pools set $pool "writes to the transcripts index"; } >"$LOGS/db-migrate.log" 2>&1 \
      || { tail -n 30 "$LOGS/db-migrate.log" >&2; mfa_die "airflow db migrate failed"; }
    echo "$want" >"$stamp"
  fi
  (umask 077 && printf '{"admin": "%s"}\n' "$ADMIN_PASSWORD" >"$AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE")
}

wanted_env() {  # NAME: digest of the environment the process reads, as it would start now
  local vars='^(MFA_|AIRFLOW_CONN_|AIRFLOW__)'
  # The API server runs no pipeline code: the pipeline's settings are not its business.
  [ "$1" = api-server ] && vars='^AIRFLOW__'
  # The script's own waiting knobs and the number of workers change no process.
  env | grep -E "$vars" | grep -vE '^MFA_CLUSTER_(TIMEOUT|DRAIN_TIMEOUT|WORKERS)=' | sort | sha256sum | cut -c1-16
}

stale() { alive "$1" && [ "$(cat "$RUN/$1.env" 2>/dev/null)" != "$(wanted_env "$1")" ]; }

drain_workers() {  # NAME...: the Celery workers' warm shutdown: no new tasks, the running ones finish
  local name pid left="" deadline=$((SECONDS + DRAIN_TIMEOUT))
  for name in "$@"; do
    mfa_say "draining $name"
    # TERM to the worker alone, not its process group: the group holds the running tasks.
    [ -f "$RUN/$name.pid" ] && kill -TERM "$(cat "$RUN/$name.pid")" 2>/dev/null || true
  done
  for name in "$@"; do
    [ -f "$RUN/$name.pid" ] || continue
    pid="$(cat "$RUN/$name.pid")"
    while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 1; done
  done
  for name in "$@"; do left+=" $name logs-$name"; done
  # shellcheck disable=SC2086
  stop_procs $left  # gone by now, or past MFA_CLUSTER_DRAIN_TIMEOUT: stopped
}

wait_worker() {  # NAME OFFSET: until the worker, started again, logs that it takes tasks (its log past OFFSET)
  local deadline=$((SECONDS + READY_TIMEOUT))
  # Celery's "NAME@host ready." line: cheaper than a ping, which starts Python and Airflow each time
  until tail -c "+$(($2 + 1))" "$LOGS/$1.log" 2>/dev/null | grep -q " $1@[^ ]* ready\."; do
    [ "$SECONDS" -lt "$deadline" ] || { tail -n 30 "$LOGS/$1.log" >&2; mfa_die "$1 does not answer after ${READY_TIMEOUT}s"; }
    sleep 1
  done
}

airflow_up() {
  local p changed=() rolling=0 extra
  extra="$(extra_workers | tr '\n' ' ')"
  for p in $(airflow_procs); do [[ " $extra " == *" ${p#logs-} "* ]] || ! stale "$p" || changed+=("$p"); done
  if [ "${#changed[@]}" != 0 ]; then
    mfa_say "the environment changed: restarting ${changed[*]} (each worker after its running tasks)"
  fi
  if stale api-server; then
    # Running tasks heartbeat to the API server and report their end to it: without it for
    # longer than [workers] max_failed_heartbeats allows they are killed, and the scheduler
    # fails them after [scheduler] task_instance_heartbeat_timeout. So it restarts only once
    # every worker drained (the queued tasks wait in Redis), before the workers start again.
    mfa_say "Airflow's own configuration changed: every worker drains before the API server restarts"
    # shellcheck disable=SC2046
    drain_workers $(worker_names)
  fi
  for p in $(worker_names); do if stale "$p" || stale "logs-$p"; then rolling=1; fi; done
  # A rolling restart begins with the workers, while the partitions that should finish run
  # (stopping the scheduler's side may take its 30 s); otherwise the scheduler's side first.
  if [ "$rolling" = 1 ]; then workers_up; scheduler_side_up; else scheduler_side_up; workers_up; fi
  # MFA_CLUSTER_WORKERS lowered: the workers past it drain (their running tasks finish, the
  # queued ones go to the others) and stop, with their log servers.
  if [ -n "$extra" ]; then
    mfa_say "MFA_CLUSTER_WORKERS=$WORKERS: stopping the extra workers:" $extra
    # shellcheck disable=SC2086
    drain_workers $extra
  fi
}

scheduler_side_up() {  # the scheduler, DAG processor, API server and triggerer, each restarted when stale
  # At once: no task runs in them (a new scheduler adopts the running ones from the Celery results).
  local p side=()
  for p in scheduler dag-processor api-server triggerer; do stale "$p" && side+=("$p"); done
  [ "${#side[@]}" = 0 ] || stop_procs "${side[@]}"
  start_proc scheduler airflow scheduler
  start_proc dag-processor airflow dag-processor
  start_proc api-server airflow api-server
  # Deferred tasks need it (the UI's home page is red without one). Its own log server would
  # bind every interface: skipped, its logs are files on this machine the API server reads.
  start_proc triggerer airflow triggerer --skip-serve-logs
}

workers_up() {  # each Celery worker and its log server; a stale worker drains first, one at a time
  local name port rolled=0 offset
  for name in $(worker_names); do
    # A rolling restart: one worker drains (its running partitions finish) and comes back with the
    # new environment while the others go on taking tasks; the next one once it is back.
    if stale "$name" || stale "logs-$name"; then drain_workers "$name"; rolled=1; fi
    offset="$(stat -c %s "$LOGS/$name.log" 2>/dev/null || echo 0)"
    # Each worker's task logs are served on a port of its own (two on one machine), on
    # 127.0.0.1: Airflow's own log server (a child of the worker) binds every interface,
    # so the worker skips it and Airflow's log app runs beside it under uvicorn.
    port="$(listen_addr "logs-$name")"; port="${port##*:}"
    start_proc "logs-$name" env AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT="$port" \
      python -m uvicorn airflow.utils.serve_logs.log_server:get_app --factory --host 127.0.0.1 --port "$port" \
      --no-access-log
    start_proc "$name" env AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT="$port" MFA_WORKER_HOSTNAME="$name" \
      airflow celery worker --celery-hostname "$name@%h" --concurrency "$WORKER_CONCURRENCY" --skip-serve-logs
    if [ "$rolled" = 1 ]; then wait_worker "$name" "$offset"; rolled=0; fi
  done
}

ping_workers() {  # names of the Celery workers that answer a ping within 2 s
  python - <<'PY'
from airflow.providers.celery.executors.celery_executor_utils import app
for reply in app.control.ping(timeout=2.0) or []:
    print("worker:", *reply.keys())
PY
}

wait_ready() {
  local deadline=$((SECONDS + READY_TIMEOUT)) up
  until curl -fsS -m 2 "http://127.0.0.1:$API_PORT/api/v2/monitor/health" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || { tail -n 30 "$LOGS/api-server.log" >&2; mfa_die "the API server did not answer within ${READY_TIMEOUT}s"; }
    sleep 0.2
  done
  until up="$(ping_workers 2>/dev/null | grep -c "^worker: " || true)" && [ "$up" -ge "$WORKERS" ]; do
    [ "$SECONDS" -lt "$deadline" ] || { tail -n 30 "$LOGS/worker1.log" >&2; mfa_die "$up of $WORKERS workers answer after ${READY_TIMEOUT}s"; }
    sleep 1
  done
}

# --- commands ----------------------------------------------------------------------------

prepare() {
  mkdir -p "$RUN" "$LOGS"
  "$MFA_REPO/scripts/bootstrap.sh"
  ensure_secrets
  airflow_env
}

up() {
  local t0=$SECONDS
  mkdir -p "$RUN" "$LOGS"
  install_packages
  prepare
  pg_up
  redis_up
  airflow_init
  airflow_up
  wait_ready
  mfa_say "cluster up in $((SECONDS - t0))s: API http://127.0.0.1:$API_PORT (user admin, password in $SECRETS), $WORKERS workers"
}

down() {
  prepare
  # shellcheck disable=SC2046
  stop_procs $(airflow_procs)
  stop_procs redis  # after the workers: they talk to the broker while they shut down
  pg_down
  mfa_say "cluster stopped"
}

status() {
  prepare
  local p rc=0 bin addr; bin="$(pg_bindir)"
  for p in postgres redis $(airflow_procs); do
    addr="$(listen_addr "$p")"
    if [ "$p" = postgres ] && [ -n "$bin" ] && as_pg_user "'$bin/pg_ctl' -D '$PGDATA' status" >/dev/null 2>&1; then
      echo "$p: running (pid $(head -1 "$PGDATA/postmaster.pid"))${addr:+, listens on $addr}"
    elif [ "$p" != postgres ] && alive "$p"; then
      echo "$p: running (pid $(cat "$RUN/$p.pid"))${addr:+, listens on $addr}"
    else
      echo "$p: stopped${addr:+, would listen on $addr}"; rc=3
    fi
  done
  local answering; answering="$(ping_workers 2>/dev/null | sed -n 's/^worker: //p' || true)"
  echo "celery workers answering: $(echo "$answering" | grep -c . || true)"
  [ -z "$answering" ] || echo "$answering" | sed 's/^/  /'
  return "$rc"
}

print_env() {  # `source <(scripts/cluster.sh env)`: export lines, the database and broker included
  prepare
  # Without the database connection an `airflow` by hand uses the development SQLite database
  # and a triggered run stays queued for ever. The lines hold the generated passwords: the
  # caller's terminal only (they are in $SECRETS, mode 600, anyway).
  echo "# the cluster's Airflow environment (secrets from $SECRETS)"
  local name
  for name in $(compgen -e | grep -E '^(AIRFLOW_HOME|AIRFLOW__)' | sort); do
    printf 'export %s=%q\n' "$name" "${!name}"
  done
  # the `airflow` of the cluster (the project's virtualenv), before whatever else is on PATH
  printf 'export PATH=%q:"$PATH"\n' "$MFA_VENV/bin"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  env) print_env ;;
  *) echo "usage: $0 up|down|status|env" >&2; exit 2 ;;
esac
