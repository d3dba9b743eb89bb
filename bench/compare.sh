#!/usr/bin/env bash
# Compares `mtakit serve --discard` with Postfix's smtp-sink and aiosmtpd
# under the same load (Postfix's smtp-source, and `mtakit load` pipelining
# beyond smtp-source's ceiling), on loopback only, and writes BENCHMARKS.md
# at the repository root. Every throughput run also measures the CPU time of
# the client (getrusage of its process tree) and of the server
# (/proc/PID/stat, all threads), to report server CPU per message.
#
#   bench/compare.sh             # 3 rounds of every setup (about 12 minutes)
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
        -h|--help) sed -n '2,26p' "$0"; exit 0 ;;
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
# name | client | client flags ({m} is the number of messages) | messages
SETUPS=(
    "1 KiB, 20 sessions, new connection per message|smtp-source|-l 1024 -s 20 -m {m}|$((20000 / SCALE))"
    "1 KiB, 20 sessions, connections reused|smtp-source|-d -l 1024 -s 20 -m {m}|$((20000 / SCALE))"
    "1 KiB, 20 sessions, connections reused, pipelined (mtakit load)|mtakit-load|--connections 20 --messages {m} --size 1024 --reuse --pipelining|$((100000 / SCALE))"
    "100 KiB, 20 sessions, new connection per message|smtp-source|-l 102400 -s 20 -m {m}|$((2000 / SCALE))"
)
SERVERS=(mtakit smtp-sink aiosmtpd)

SOURCE_FLAGS="-f bench@example.com -t sink@example.com"

# Runs a client with its output in LOG; prints its wall time and the CPU time
# (user, sys) of its whole process tree, in seconds; exits with its status.
# The counts before the run are subtracted: they survive exec, so a python3
# that is a wrapper script (pyenv's shim) starts with its helpers' CPU time.
cat >"$WORK/measure.py" <<'EOF'
import resource, subprocess, sys, time
log, cmd = sys.argv[1], sys.argv[2:]
base = resource.getrusage(resource.RUSAGE_CHILDREN)
with open(log, "wb") as out:
    start = time.monotonic()
    code = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT).returncode
    wall = time.monotonic() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
user, system = usage.ru_utime - base.ru_utime, usage.ru_stime - base.ru_stime
print(f"{wall:.6f}\t{user:.6f}\t{system:.6f}")
sys.exit(code if code >= 0 else 128 - code)
EOF

CLK_TCK=$(getconf CLK_TCK)
# cpu_ticks PID: utime + stime of the whole process (all threads), in clock
# ticks, from /proc/PID/stat fields 14 and 15 (counted after "(comm)", which
# may hold spaces); empty when the process is gone.
cpu_ticks() {
    awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat" 2>/dev/null || true
}

# results.tsv: round, setup, server, msg/s (or FAIL), wall s, client user s,
# client sys s, server CPU s, messages, sessions pipelined/sessions (mtakit
# load only). Everything after msg/s is empty for a failed run.
for round in $(seq "$ROUNDS"); do
    for setup in "${SETUPS[@]}"; do
        IFS='|' read -r name client flags messages <<<"$setup"
        flags=${flags//\{m\}/$messages}
        # Rotate the order every round so that no server always goes first.
        for i in 0 1 2; do
            server=${SERVERS[$(( (i + round - 1) % 3 ))]}
            port=$(free_port)
            start_server "$server" "$port"
            case "$client" in
                smtp-source)
                    # shellcheck disable=SC2206
                    cmd=("$SMTP_SOURCE" $flags $SOURCE_FLAGS "127.0.0.1:$port") ;;
                mtakit-load)
                    # shellcheck disable=SC2206
                    cmd=("$MTAKIT" load $flags "127.0.0.1:$port") ;;
            esac
            rate=FAIL wall="" cuser="" csys="" scpu="" piped="" why=""
            before=$(cpu_ticks "$SERVER_PID")
            if measures=$(timeout 600 python3 "$WORK/measure.py" "$WORK/client.out" "${cmd[@]}"); then
                after=$(cpu_ticks "$SERVER_PID")
                IFS=$'\t' read -r wall cuser csys <<<"$measures"
                if [ "$client" = mtakit-load ]; then
                    # "messages:    N sent, E errors in S s"; "sessions:    N (P pipelined)"
                    sent="" errors=""
                    read -r sent errors < <(awk '/^messages:/ { print $2, $4 }' "$WORK/client.out") || true
                    piped=$(awk '/^sessions:/ { gsub(/\(/, "", $3); print $3 "/" $2 }' "$WORK/client.out")
                    [ "${sent:-}" = "$messages" ] && [ "${errors:-}" = 0 ] \
                        || why="mtakit load: ${sent:-?} sent, ${errors:-?} errors"
                fi
                if [ -z "$why" ]; then
                    rate=$(awk -v m="$messages" -v w="$wall" 'BEGIN { printf "%.0f", m / w }')
                    if [ -n "$before" ] && [ -n "$after" ]; then
                        scpu=$(awk -v a="$after" -v b="$before" -v t="$CLK_TCK" 'BEGIN { printf "%.2f", (a - b) / t }')
                    fi
                fi
            else
                why="$client failed ($?)"
            fi
            if [ -n "$why" ]; then
                rate=FAIL wall="" cuser="" csys="" scpu="" piped=""
                log "$why against $server: $(tail -3 "$WORK/client.out" | tr '\n' ' ')"
            fi
            stop_server
            log "round $round, $name, $server: $rate msg/s, client CPU ${cuser:-?}+${csys:-?} s in ${wall:-?} s, server CPU ${scpu:-?} s${piped:+, $piped sessions pipelined}"
            printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$name" "$server" "$rate" \
                "$wall" "$cuser" "$csys" "$scpu" "$messages" "$piped" >>"$RESULTS"
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
export CPU MEM ROUNDS QUICK RESULTS MEMORY OUT SOURCE_FLAGS CLK_TCK
export NPROC=$(nproc) KERNEL=$(uname -r) DATE=$(date -u '+%Y-%m-%d %H:%M UTC')
export COMMIT=${MTAKIT_BENCH_REV:-$(cd "$ROOT" && git describe --always --dirty 2>/dev/null || echo unknown)}
export SMTP_SINK_CMD=$(server_command smtp-sink) AIOSMTPD_CMD=$(server_command aiosmtpd)
export AIOSMTPD_VERSION SETUPS_TEXT=$(printf '%s\n' "${SETUPS[@]}")
export ANALYSIS="$ROOT/bench/analysis.md"
# The Python package's section, written by bench/python.sh, is kept.
export PYTHON_SECTION="$ROOT/bench/python.md"

timeout 60 python3 - <<'EOF'
import os, statistics
from collections import defaultdict

env = os.environ
SERVERS = ("mtakit", "smtp-sink", "aiosmtpd")
runs = defaultdict(list)     # msg/s
server_us = defaultdict(list)  # server CPU µs per message
client_pct = defaultdict(list)  # client CPU, % of one core
piped = defaultdict(list)    # mtakit load: "pipelined/sessions"
order = []
for row in open(env["RESULTS"]):
    rnd, setup, server, rate, wall, cuser, csys, scpu, messages, pip = row.rstrip("\n").split("\t")
    if setup not in order:
        order.append(setup)
    key = (setup, server)
    runs[key].append(None if rate == "FAIL" else float(rate))
    server_us[key].append(float(scpu) * 1e6 / int(messages) if scpu else None)
    client_pct[key].append((float(cuser) + float(csys)) * 100 / float(wall) if wall else None)
    if pip:
        piped[key].append(pip)

def median(values):
    ok = [v for v in values if v is not None]
    return statistics.median(ok) if ok and len(ok) == len(values) else None

def num(v, fail="FAIL"):
    return fail if v is None else f"{v:,.0f}"

def ratio(a, b):
    return "-" if a is None or b is None else f"{a / b:.2f}×"

def us(v):
    return "-" if v is None else f"{v:,.1f}" if v < 100 else f"{v:,.0f}"

def pct(v):
    return "-" if v is None else f"{v:.0f} %"

flags = {}
for line in env["SETUPS_TEXT"].splitlines():
    name, client, f, messages = line.split("|")
    flags[name] = (client, f.replace("{m}", messages))

out = []
w = out.append
w("# Benchmarks")
w("")
w("Written by `bench/compare.sh`" + (" --quick" if env["QUICK"] == "1" else "") +
  f" on {env['DATE']} (commit {env['COMMIT']}). Do not edit by hand: run the script again.")
w("")
w("`mtakit serve --discard`, Postfix's `smtp-sink` and `aiosmtpd` "
  f"{env['AIOSMTPD_VERSION']} (sink handler) take the same load from Postfix's "
  "`smtp-source` (and, in the pipelined row, from `mtakit load`) on loopback, one "
  "after another in each round, the order rotating every round. Each figure is the "
  f"median of {env['ROUNDS']} round(s); msg/s is the number of messages divided by "
  "the client's wall time (process start to exit, connection setup included), "
  "computed the same way for smtp-source and `mtakit load` (not `mtakit load`'s "
  "own msg/s figure).")
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
# Which servers the pipelined runs pipelined against ("0/20": none).
pipe_setups = [setup for setup in order if flags[setup][0] == "mtakit-load"]
nopipe = [srv for setup in pipe_setups for srv in SERVERS
          if piped[(setup, srv)] and all(p.startswith("0/") for p in piped[(setup, srv)])]
somepipe = [srv for setup in pipe_setups for srv in SERVERS
            if piped[(setup, srv)] and any(p.startswith("0/") for p in piped[(setup, srv)])
            and srv not in nopipe]
allpipe = bool(pipe_setups) and all(piped[(setup, srv)] for setup in pipe_setups for srv in SERVERS)
w(("The pipelined row uses `mtakit load --pipelining`: MAIL, RCPT and DATA go in one "
   "write, and the content with the next group, when the server advertises PIPELINING. "
   + (" and ".join(dict.fromkeys(nopipe)) + " did not advertise it, so `mtakit load` "
      "ran lock-step against it (0 sessions pipelined): that cell is not a pipelined "
      "figure. " if nopipe else "Every server advertised it. " if allpipe and not somepipe else "")
   + ("Some runs against " + " and ".join(dict.fromkeys(somepipe)) + " did not pipeline."
      if somepipe else "")).rstrip())
w("")
w("CPU per message: the server's CPU time (utime + stime of the whole process, all "
  "threads, from `/proc/PID/stat`, read just before and just after each run) divided "
  "by the messages; client CPU is the client's user + system time (`getrusage` of its "
  "process tree) over its wall time, in % of one core. `mtakit load` is "
  "multi-threaded, so it can use more than one core.")
w("")
w("| Setup | mtakit server µs/msg | smtp-sink server µs/msg | aiosmtpd server µs/msg "
  "| smtp-sink / mtakit | client CPU, mtakit runs | client CPU, smtp-sink runs |")
w("|---|---:|---:|---:|---:|---:|---:|")
for setup in order:
    m, s, a = (median(server_us[(setup, srv)]) for srv in SERVERS)
    cm = median(client_pct[(setup, "mtakit")])
    cs = median(client_pct[(setup, "smtp-sink")])
    w(f"| {setup} | {us(m)} | {us(s)} | {us(a)} | {ratio(s, m)} | {pct(cm)} | {pct(cs)} |")
w("")
w("In the smtp-sink / mtakit column, >1 means mtakit uses less CPU per message. "
  "When the client is near 100 % of a core (smtp-source is a single process), msg/s "
  "measures the client's ceiling more than the server, and the CPU-per-message "
  "figures are what compare the servers. "
  f"Server CPU is counted in clock ticks of 1/{env['CLK_TCK']} s, so short runs "
  "(such as --quick) give coarse figures.")
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
    client, f = flags[setup]
    if client == "mtakit-load":
        w(f"mtakit load {f} 127.0.0.1:PORT   # {setup}")
    else:
        w(f"smtp-source {f} {env['SOURCE_FLAGS']} 127.0.0.1:PORT   # {setup}")
w("```")
w("")
w("Each client runs under a small Python wrapper (`subprocess.run`, then "
  "`resource.getrusage(RUSAGE_CHILDREN)`) that gives its wall time and its user and "
  "system CPU time, threads and child processes included. The server's CPU time is "
  "fields 14 and 15 (utime, stime) of `/proc/PID/stat` for the server process, read "
  "just before and just after the client runs, in ticks of `getconf CLK_TCK`.")
w("")
w("Memory: `mtakit serve --discard --max-connections 20000` for 10,000 idle sessions; "
  "`mtakit serve --discard --max-message-size 209715200` for the 100 MiB message.")
w("")
if os.path.exists(env["PYTHON_SECTION"]):
    w(open(env["PYTHON_SECTION"]).read().rstrip())
    w("")
if os.path.exists(env["ANALYSIS"]):
    w(open(env["ANALYSIS"]).read().rstrip())
    w("")
open(env["OUT"], "w").write("\n".join(out))
EOF
log "wrote $OUT"
