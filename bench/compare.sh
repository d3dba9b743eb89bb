#!/usr/bin/env bash
# Compares `mtakit serve --discard` with Postfix's smtp-sink and aiosmtpd
# under the same load (Postfix's smtp-source), on loopback only, and writes
# BENCHMARKS.md at the repository root.
#
#   bench/compare.sh             # 3 rounds of every setup (about 10 minutes)
#   bench/compare.sh --rounds 5
#   bench/compare.sh --quick     # one small round: the CI smoke version
#
# Options:
#   --rounds N      rounds of every setup (default 3); medians are reported
#   --quick         one round with a tenth of the messages
#   --out FILE      where to write the report (default: BENCHMARKS.md)
#   --no-install    do not apt-get/pip install; the tools must be there
#
# It needs root for apt-get (or the tools already installed), python3, cargo.
# Installing the Debian `postfix` package must not configure or start a mail
# daemon: a policy-rc.d that refuses every start is in place while it
# installs, as ../shared/reference/bench-tools.md describes.
#
# Every step is bounded with `timeout`; every server it starts is killed on
# exit. Figures on one machine vary by 10-30 % between runs: only the ratios
# measured side by side in one run mean much.

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ROUNDS=3
QUICK=0
INSTALL=1
OUT="$ROOT/BENCHMARKS.md"

while [ $# -gt 0 ]; do
    case "$1" in
        --rounds) ROUNDS=${2:?--rounds needs a number}; shift 2 ;;
        --quick) QUICK=1; ROUNDS=1; shift ;;
        --out) OUT=${2:?--out needs a file}; shift 2 ;;
        --no-install) INSTALL=0; shift ;;
        -h|--help) sed -n '2,23p' "$0"; exit 0 ;;
        *) echo "compare.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
case "$ROUNDS" in ''|*[!0-9]*|0) echo "compare.sh: --rounds must be a positive number" >&2; exit 2 ;; esac

WORK=$(mktemp -d "${TMPDIR:-/tmp}/mtakit-bench.XXXXXX")
RESULTS="$WORK/results.tsv"
MEMORY="$WORK/memory.tsv"
: > "$RESULTS"
: > "$MEMORY"
SERVER_PID=""
POLICY_RC=""

log() { printf '[compare %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

stop_server() {
    if [ -n "$SERVER_PID" ]; then
        kill "$SERVER_PID" 2>/dev/null || true
        # Bounded: a server that ignores SIGTERM gets SIGKILL.
        for _ in $(seq 50); do
            kill -0 "$SERVER_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
        SERVER_PID=""
    fi
}

cleanup() {
    stop_server
    # Any other job this script started (clients still running).
    local pids
    pids=$(jobs -p)
    if [ -n "$pids" ]; then
        # shellcheck disable=SC2086
        kill $pids 2>/dev/null || true
    fi
    [ -n "$POLICY_RC" ] && rm -f "$POLICY_RC"
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- install ---------------------------------------------------------------

SMTP_SOURCE=/usr/sbin/smtp-source
SMTP_SINK=/usr/sbin/smtp-sink
VENV=${MTAKIT_BENCH_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/mtakit-bench/venv}
AIOSMTPD_VERSION=1.4.6

install_postfix() {
    if [ -x "$SMTP_SOURCE" ] && [ -x "$SMTP_SINK" ]; then
        return
    fi
    [ "$INSTALL" = 1 ] || { echo "smtp-source/smtp-sink missing and --no-install given" >&2; exit 1; }
    [ "$(id -u)" = 0 ] || { echo "installing postfix needs root" >&2; exit 1; }
    log "installing the Debian postfix package (no daemon is configured or started)"
    timeout 300 apt-get update -qq
    if [ -e /usr/sbin/policy-rc.d ]; then
        echo "/usr/sbin/policy-rc.d exists already; refusing to replace it" >&2
        exit 1
    fi
    POLICY_RC=/usr/sbin/policy-rc.d
    printf '#!/bin/sh\nexit 101\n' > "$POLICY_RC"
    chmod +x "$POLICY_RC"
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
    local status=0
    DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq postfix >/dev/null || status=$?
    rm -f "$POLICY_RC"
    POLICY_RC=""
    [ "$status" = 0 ] || { echo "apt-get install postfix failed ($status)" >&2; exit 1; }
}

install_aiosmtpd() {
    if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c "import aiosmtpd" 2>/dev/null; then
        return
    fi
    [ "$INSTALL" = 1 ] || { echo "aiosmtpd venv missing at $VENV and --no-install given" >&2; exit 1; }
    log "installing aiosmtpd $AIOSMTPD_VERSION into $VENV"
    mkdir -p "$(dirname "$VENV")"
    timeout 120 python3 -m venv "$VENV"
    timeout 300 "$VENV/bin/pip" install -q "aiosmtpd==$AIOSMTPD_VERSION"
}

install_postfix
install_aiosmtpd

log "building mtakit (release)"
(cd "$ROOT" && timeout 900 cargo build --release -q -p mtakit-cli)
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
MTAKIT="$TARGET_DIR/release/mtakit"
[ -x "$MTAKIT" ] || { echo "no binary at $MTAKIT" >&2; exit 1; }

# Many idle sessions need many descriptors, in the servers and the client.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
log "open files limit: $(ulimit -n)"

# --- servers ---------------------------------------------------------------

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_port() {
    timeout 15 bash -c "until (exec 3<>/dev/tcp/127.0.0.1/$1) 2>/dev/null; do sleep 0.05; done" \
        || { echo "server on port $1 did not come up" >&2; exit 1; }
}

# The exact command line of each server, with PORT in place of the port.
MTAKIT_EXTRA=()
server_command() {
    case "$1" in
        mtakit) echo "RUST_LOG=warn mtakit serve --discard --no-http --listen 127.0.0.1:PORT ${MTAKIT_EXTRA[*]:-}" ;;
        smtp-sink) echo "smtp-sink $( [ "$(id -u)" = 0 ] && echo '-u nobody ')127.0.0.1:PORT 1000" ;;
        aiosmtpd) echo "python -m aiosmtpd -n -l 127.0.0.1:PORT -c aiosmtpd.handlers.Sink" ;;
    esac
}

# start_server NAME PORT: starts it in the background, sets SERVER_PID.
start_server() {
    local name=$1 port=$2
    case "$name" in
        mtakit)
            RUST_LOG=warn "$MTAKIT" serve --discard --no-http --listen "127.0.0.1:$port" "${MTAKIT_EXTRA[@]}" \
                >/dev/null 2>"$WORK/$name.err" &
            ;;
        smtp-sink)
            local user=()
            [ "$(id -u)" = 0 ] && user=(-u nobody)
            "$SMTP_SINK" "${user[@]}" "127.0.0.1:$port" 1000 >/dev/null 2>"$WORK/$name.err" &
            ;;
        aiosmtpd)
            "$VENV/bin/python" -m aiosmtpd -n -l "127.0.0.1:$port" -c aiosmtpd.handlers.Sink \
                >/dev/null 2>"$WORK/$name.err" &
            ;;
    esac
    SERVER_PID=$!
    wait_port "$port"
}

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
hwm_kib() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"; }

# --- throughput --------------------------------------------------------------

if [ "$QUICK" = 1 ]; then
    SCALE=10
else
    SCALE=1
fi
# name | smtp-source flags (without -m) | messages
SETUPS=(
    "1 KiB, 20 sessions, new connection per message|-l 1024 -s 20|$((20000 / SCALE))"
    "1 KiB, 20 sessions, connections reused|-d -l 1024 -s 20|$((20000 / SCALE))"
    "100 KiB, 20 sessions, new connection per message|-l 102400 -s 20|$((2000 / SCALE))"
)
SERVERS=(mtakit smtp-sink aiosmtpd)

SOURCE_FLAGS="-f bench@example.com -t sink@example.com"

for round in $(seq "$ROUNDS"); do
    for setup in "${SETUPS[@]}"; do
        IFS='|' read -r name flags messages <<<"$setup"
        # Rotate the order every round so that no server always goes first.
        for i in 0 1 2; do
            server=${SERVERS[$(( (i + round - 1) % 3 ))]}
            port=$(free_port)
            start_server "$server" "$port"
            start=$(date +%s.%N)
            # shellcheck disable=SC2086
            if timeout 600 "$SMTP_SOURCE" $flags -m "$messages" $SOURCE_FLAGS "127.0.0.1:$port" \
                >"$WORK/source.out" 2>&1; then
                end=$(date +%s.%N)
                rate=$(python3 -c "print(f'{$messages / ($end - $start):.0f}')")
            else
                rate=FAIL
                log "smtp-source failed against $server: $(tail -3 "$WORK/source.out" | tr '\n' ' ')"
            fi
            stop_server
            log "round $round, $name, $server: $rate msg/s"
            printf '%s\t%s\t%s\t%s\n' "$round" "$name" "$server" "$rate" >>"$RESULTS"
        done
    done
done

# --- memory per idle session -----------------------------------------------

cat >"$WORK/idle.py" <<'EOF'
# Opens N connections, reads each greeting, holds them until stdin closes.
import socket, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
socks = []
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    got = b""
    while not got.endswith(b"\r\n"):
        chunk = s.recv(512)
        if not chunk:
            sys.exit(f"connection {i} closed before the greeting")
        got += chunk
    if not got.startswith(b"220"):
        sys.exit(f"connection {i}: {got!r}")
    socks.append(s)
print("ready", flush=True)
sys.stdin.read()
EOF

# idle_sessions SERVER N: RSS growth of SERVER per idle session, in KiB.
idle_sessions() {
    local server=$1 n=$2 port before after
    port=$(free_port)
    start_server "$server" "$port"
    sleep 0.5
    before=$(rss_kib "$SERVER_PID")
    local fifo="$WORK/idle.fifo"
    rm -f "$fifo"; mkfifo "$fifo"
    timeout 300 python3 "$WORK/idle.py" "$port" "$n" <"$fifo" >"$WORK/idle.out" 2>&1 &
    local client=$!
    exec 7>"$fifo"
    if timeout 240 bash -c "until grep -q ready '$WORK/idle.out' 2>/dev/null; do kill -0 $client 2>/dev/null || exit 1; sleep 0.1; done"; then
        sleep 1
        after=$(rss_kib "$SERVER_PID")
        local per
        per=$(python3 -c "print(f'{($after - $before) / $n:.2f}')")
        log "$server: $n idle sessions: RSS $before -> $after KiB, $per KiB per session"
        printf 'idle\t%s\t%s\t%s\t%s\t%s\n' "$server" "$n" "$before" "$after" "$per" >>"$MEMORY"
    else
        log "$server: could not hold $n idle sessions: $(tail -2 "$WORK/idle.out" | tr '\n' ' ')"
        printf 'idle\t%s\t%s\t-\t-\tFAIL\n' "$server" "$n" >>"$MEMORY"
    fi
    exec 7>&-
    wait "$client" 2>/dev/null || true
    stop_server
}

MTAKIT_EXTRA=(--max-connections 20000)
idle_sessions mtakit 10000
MTAKIT_EXTRA=()
idle_sessions aiosmtpd 2000

# --- one 100 MiB message -----------------------------------------------------

cat >"$WORK/big.py" <<'EOF'
# Sends one message of N octets (lines of 78 octets), lock-step, and checks
# the reply after the content.
import socket, sys
port, size = int(sys.argv[1]), int(sys.argv[2])
s = socket.create_connection(("127.0.0.1", port), timeout=120)
f = s.makefile("rb")
def reply():
    lines = []
    while True:
        line = f.readline()
        if not line:
            sys.exit("connection closed")
        lines.append(line)
        if line[3:4] != b"-":
            return int(line[:3]), b"".join(lines)
def command(line, want):
    s.sendall(line + b"\r\n")
    code, text = reply()
    if code != want:
        sys.exit(f"{line!r}: {text!r}")
reply()
command(b"EHLO big.example.com", 250)
command(b"MAIL FROM:<big@example.com>", 250)
command(b"RCPT TO:<sink@example.com>", 250)
command(b"DATA", 354)
line = b"x" * 78 + b"\r\n"
chunk = line * (1024 * 1024 // len(line))
sent = 0
while sent + len(chunk) <= size:
    s.sendall(chunk)
    sent += len(chunk)
while sent + len(line) <= size:
    s.sendall(line)
    sent += len(line)
s.sendall(b".\r\n")
code, text = reply()
if code != 250:
    sys.exit(f"after the content: {text!r}")
command(b"QUIT", 221)
print(sent)
EOF

BIG=$((100 * 1024 * 1024))
big_message() {
    local server=$1 port before peak
    port=$(free_port)
    start_server "$server" "$port"
    sleep 0.5
    before=$(rss_kib "$SERVER_PID")
    if timeout 300 python3 "$WORK/big.py" "$port" "$BIG" >"$WORK/big.out" 2>&1; then
        peak=$(hwm_kib "$SERVER_PID")
        log "$server: one 100 MiB message: RSS $before KiB before, peak $peak KiB"
        printf 'big\t%s\t%s\t%s\t%s\n' "$server" "$BIG" "$before" "$peak" >>"$MEMORY"
    else
        log "$server: the 100 MiB message failed: $(tail -2 "$WORK/big.out" | tr '\n' ' ')"
        printf 'big\t%s\t%s\t-\tFAIL\n' "$server" "$BIG" >>"$MEMORY"
    fi
    stop_server
}

MTAKIT_EXTRA=(--max-message-size $((200 * 1024 * 1024)))
big_message mtakit
MTAKIT_EXTRA=()
big_message smtp-sink
big_message aiosmtpd

# --- report ------------------------------------------------------------------

CPU=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
MEM=$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
export CPU MEM ROUNDS QUICK RESULTS MEMORY OUT SOURCE_FLAGS
export NPROC=$(nproc) KERNEL=$(uname -r) DATE=$(date -u '+%Y-%m-%d %H:%M UTC')
export COMMIT=${MTAKIT_BENCH_REV:-$(cd "$ROOT" && git describe --always --dirty 2>/dev/null || echo unknown)}
export SMTP_SINK_CMD=$(server_command smtp-sink) AIOSMTPD_CMD=$(server_command aiosmtpd)
export AIOSMTPD_VERSION SETUPS_TEXT=$(printf '%s\n' "${SETUPS[@]}")
export ANALYSIS="$ROOT/bench/analysis.md"

timeout 60 python3 - <<'EOF'
import os, statistics
from collections import defaultdict

env = os.environ
runs = defaultdict(list)
order = []
for row in open(env["RESULTS"]):
    rnd, setup, server, rate = row.rstrip("\n").split("\t")
    if setup not in order:
        order.append(setup)
    runs[(setup, server)].append(None if rate == "FAIL" else float(rate))

def median(values):
    ok = [v for v in values if v is not None]
    return statistics.median(ok) if ok and len(ok) == len(values) else None

def num(v):
    return "FAIL" if v is None else f"{v:,.0f}"

def ratio(a, b):
    return "-" if a is None or b is None else f"{a / b:.2f}×"

flags = {}
for line in env["SETUPS_TEXT"].splitlines():
    name, f, messages = line.split("|")
    flags[name] = (f, messages)

out = []
w = out.append
w("# Benchmarks")
w("")
w("Written by `bench/compare.sh`" + (" --quick" if env["QUICK"] == "1" else "") +
  f" on {env['DATE']} (commit {env['COMMIT']}). Do not edit by hand: run the script again.")
w("")
w("`mtakit serve --discard`, Postfix's `smtp-sink` and `aiosmtpd` "
  f"{env['AIOSMTPD_VERSION']} (sink handler) take the same load from Postfix's "
  "`smtp-source` on loopback, one after another in each round, the order rotating "
  f"every round. Each figure is the median of {env['ROUNDS']} round(s); msg/s is the "
  "number of messages divided by smtp-source's wall time, connection setup included.")
w("")
w("## Throughput")
w("")
w("| Setup | mtakit msg/s | smtp-sink msg/s | aiosmtpd msg/s | mtakit / smtp-sink | mtakit / aiosmtpd |")
w("|---|---:|---:|---:|---:|---:|")
for setup in order:
    m = median(runs[(setup, "mtakit")])
    s = median(runs[(setup, "smtp-sink")])
    a = median(runs[(setup, "aiosmtpd")])
    w(f"| {setup} | {num(m)} | {num(s)} | {num(a)} | {ratio(m, s)} | {ratio(m, a)} |")
w("")
w("Issue 6's goal is at least 1.2× smtp-sink on every row.")
w("")
w("Every run (msg/s, in round order):")
w("")
w("| Setup | mtakit | smtp-sink | aiosmtpd |")
w("|---|---|---|---|")
for setup in order:
    cells = [", ".join(num(v) for v in runs[(setup, srv)]) for srv in ("mtakit", "smtp-sink", "aiosmtpd")]
    w(f"| {setup} | " + " | ".join(cells) + " |")
w("")
w("## Memory")
w("")
idle, big = [], []
for row in open(env["MEMORY"]):
    f = row.rstrip("\n").split("\t")
    (idle if f[0] == "idle" else big).append(f[1:])
w("Idle sessions: a Python client opens N connections, reads each greeting and "
  "holds them; the server's VmRSS (`/proc/PID/status`) is read before and after.")
w("")
w("| Server | Idle sessions | RSS before (KiB) | RSS after (KiB) | Per session (KiB) |")
w("|---|---:|---:|---:|---:|")
for server, n, before, after, per in idle:
    w(f"| {server} | {int(n):,} | {before} | {after} | {per} |")
w("")
w("Issue 6's goal: at most 8 KiB per idle mtakit session at 10,000 sessions. "
  "smtp-sink is left out: it cannot hold more than about 350 idle connections.")
w("")
w("One 100 MiB message (lines of 78 octets, sent lock-step by a Python client); "
  "peak is VmHWM after the message was accepted:")
w("")
w("| Server | Message (octets) | RSS before (KiB) | Peak RSS (KiB) | Growth (MiB) |")
w("|---|---:|---:|---:|---:|")
for server, size, before, peak in big:
    growth = "-" if peak == "FAIL" or before == "-" else f"{(int(peak) - int(before)) / 1024:.1f}"
    w(f"| {server} | {int(size):,} | {before} | {peak} | {growth} |")
w("")
w("## Machine")
w("")
w(f"- CPU: {env['CPU']}, {env['NPROC']} cores (shared by client and server)")
w(f"- Memory: {env['MEM']}")
w(f"- Kernel: {env['KERNEL']}")
w(f"- Date: {env['DATE']}")
w("")
w("## Commands")
w("")
w("Servers (PORT is a free loopback port; a fresh server for every run):")
w("")
w("```sh")
w("RUST_LOG=warn mtakit serve --discard --no-http --listen 127.0.0.1:PORT   # release build")
w(env["SMTP_SINK_CMD"])
w(env["AIOSMTPD_CMD"])
w("```")
w("")
w("Load:")
w("")
w("```sh")
for setup in order:
    f, messages = flags[setup]
    w(f"smtp-source {f} -m {messages} {env['SOURCE_FLAGS']} 127.0.0.1:PORT   # {setup}")
w("```")
w("")
w("Memory: `mtakit serve --discard --max-connections 20000` for 10,000 idle sessions; "
  "`mtakit serve --discard --max-message-size 209715200` for the 100 MiB message.")
w("")
if os.path.exists(env["ANALYSIS"]):
    w(open(env["ANALYSIS"]).read().rstrip())
    w("")
open(env["OUT"], "w").write("\n".join(out))
EOF
log "wrote $OUT"
