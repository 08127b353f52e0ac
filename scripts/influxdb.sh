#!/usr/bin/env bash
# A project-local InfluxDB 1.x (Debian's `influxdb` package), bound to 127.0.0.1 only.
#
#   scripts/influxdb.sh start    install if missing, start headless, create database `cellmon`
#   scripts/influxdb.sh stop     stop the process this script started (by its pid file only)
#   scripts/influxdb.sh status   say whether http://127.0.0.1:8086/ping answers
#
# Data, log and pid file live in $CELLMON_INFLUX_DIR (default .cellmon/influxdb; a relative path
# is taken from the project root). No config file is read (-config /dev/null): every setting is an
# INFLUXDB_* environment variable, all of which influxd 1.6.7 honours (checked with `influxd config`
# and by running it). If something already answers on 127.0.0.1:8086, `start` uses it as is and only
# makes sure the database exists.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HOST=127.0.0.1
PORT=8086
RPC_PORT=8088
DATABASE=cellmon
URL="http://${HOST}:${PORT}"
START_TIMEOUT_S=30
STOP_TIMEOUT_S=20

cd "$ROOT"
DIR="${CELLMON_INFLUX_DIR:-.cellmon/influxdb}"
PIDFILE="${DIR}/influxd.pid"
LOG="${DIR}/influxd.log"

say() { printf 'influxdb: %s\n' "$*"; }
die() {
    printf 'influxdb: ERROR: %s\n' "$*" >&2
    exit 1
}

# http_code METHOD URL [urlencoded-body]: print the HTTP status code, 000 when nothing answers.
http_code() {
    local method=$1 url=$2 body=${3-}
    if command -v curl >/dev/null 2>&1; then
        local args=(-s -o /dev/null -w '%{http_code}' --max-time 5 -X "$method")
        [[ -n $body ]] && args+=(--data-urlencode "$body")
        curl "${args[@]}" "$url" || true
    else
        python3 - "$method" "$url" "$body" <<'EOF'
import sys, urllib.error, urllib.parse, urllib.request
method, url, body = sys.argv[1:4]
data = None
if body:
    key, _, value = body.partition("=")
    data = urllib.parse.urlencode({key: value}).encode()
try:
    with urllib.request.urlopen(urllib.request.Request(url, data=data, method=method), timeout=5) as r:
        print(r.status, end="")
except urllib.error.HTTPError as e:
    print(e.code, end="")
except OSError:
    print("000", end="")
EOF
    fi
}

answers() { [[ "$(http_code GET "${URL}/ping")" == 204 ]]; }

# The pid in the pid file, if that process is alive and is an influxd; empty otherwise.
our_pid() {
    local pid
    [[ -f $PIDFILE ]] || return 0
    pid="$(tr -dc '0-9' <"$PIDFILE")"
    [[ -n $pid ]] || return 0
    if kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/${pid}/cmdline" 2>/dev/null | grep -q influxd; then
        printf '%s' "$pid"
    fi
}

install_influxd() {
    command -v influxd >/dev/null 2>&1 && return 0
    say "influxd not found: installing Debian's influxdb package"
    local sudo=()
    [[ $(id -u) -eq 0 ]] || sudo=(sudo)
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq \
        -o DPkg::Lock::Timeout=120 influxdb >/dev/null
    command -v influxd >/dev/null 2>&1 || die "apt-get installed influxdb but influxd is not on PATH"
}

create_database() {
    local code
    code="$(http_code POST "${URL}/query" "q=CREATE DATABASE ${DATABASE}")"
    [[ $code == 200 ]] || die "CREATE DATABASE ${DATABASE} answered HTTP ${code}"
    say "database '${DATABASE}' ready at ${URL}"
}

fail_with_log() {
    printf 'influxdb: ERROR: %s\n--- last lines of %s ---\n' "$1" "$LOG" >&2
    tail -n 25 "$LOG" >&2 || true
    exit 1
}

start() {
    if answers; then
        say "already answering at ${URL}/ping; not starting another"
        create_database
        return 0
    fi
    install_influxd
    mkdir -p "$DIR"
    DIR="$(cd "$DIR" && pwd)"
    PIDFILE="${DIR}/influxd.pid"
    LOG="${DIR}/influxd.log"

    local pid
    pid="$(our_pid)"
    if [[ -z $pid ]]; then
        rm -f "$PIDFILE"
        say "starting influxd ($(influxd version 2>/dev/null || echo '?')), data in ${DIR}"
        # setsid: its own session, so it outlives this shell and the caller's process group.
        # -pidfile: influxd writes its own pid (exact even through setsid's fork).
        # Reporting: Debian's build names it reporting-enabled (default off); upstream's is
        # reporting-disabled. Each build ignores the other's variable, so both are set.
        INFLUXDB_REPORTING_ENABLED=false \
            INFLUXDB_REPORTING_DISABLED=true \
            INFLUXDB_BIND_ADDRESS="${HOST}:${RPC_PORT}" \
            INFLUXDB_HTTP_BIND_ADDRESS="${HOST}:${PORT}" \
            INFLUXDB_HTTP_LOG_ENABLED=false \
            INFLUXDB_META_DIR="${DIR}/meta" \
            INFLUXDB_DATA_DIR="${DIR}/data" \
            INFLUXDB_DATA_WAL_DIR="${DIR}/wal" \
            INFLUXDB_DATA_QUERY_LOG_ENABLED=false \
            INFLUXDB_MONITOR_STORE_ENABLED=false \
            setsid influxd run -config /dev/null -pidfile "$PIDFILE" \
            </dev/null >>"$LOG" 2>&1 &
    else
        say "influxd (pid ${pid}) is running but not answering yet; waiting"
    fi

    local waited=0
    until answers; do
        if ((waited >= START_TIMEOUT_S * 4)); then
            fail_with_log "influxd did not answer ${URL}/ping within ${START_TIMEOUT_S}s"
        fi
        # Once influxd has written its pid file, a dead pid means it exited: stop waiting.
        if ((waited > 4)) && [[ -f $PIDFILE ]] && [[ -z "$(our_pid)" ]]; then
            fail_with_log "influxd exited during start-up"
        fi
        sleep 0.25
        waited=$((waited + 1))
    done
    say "influxd (pid $(our_pid)) answering at ${URL}, log ${LOG}"
    create_database
}

stop() {
    local pid
    pid="$(our_pid)"
    if [[ -z $pid ]]; then
        rm -f "$PIDFILE"
        say "no influxd started by this script is running (pid file ${PIDFILE})"
        return 0
    fi
    kill -TERM "$pid"
    local waited=0
    while kill -0 "$pid" 2>/dev/null; do
        if ((waited >= STOP_TIMEOUT_S * 4)); then
            say "pid ${pid} still running after ${STOP_TIMEOUT_S}s; sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
            break
        fi
        sleep 0.25
        waited=$((waited + 1))
    done
    rm -f "$PIDFILE"
    say "stopped influxd (pid ${pid})"
}

status() {
    local pid
    pid="$(our_pid)"
    if answers; then
        if [[ -n $pid ]]; then
            say "answering at ${URL}/ping (pid ${pid}, data in ${DIR})"
        else
            say "answering at ${URL}/ping (not started by this script)"
        fi
    else
        say "not answering at ${URL}/ping${pid:+ (pid ${pid} is alive)}"
        return 3
    fi
}

case "${1-}" in
start) start ;;
stop) stop ;;
status) status ;;
*)
    printf 'usage: %s start|stop|status\n' "$0" >&2
    exit 2
    ;;
esac
