#!/usr/bin/env python3
"""Fault rules (redteam.md section 10 and section 17): what an unrelated client sees
while a message-stage rule is matched, and whether one client can use up
another test's `times`.

Usage: fault_rules.py MTAKIT_BINARY [--size-patho BYTES] [--size-real BYTES]

Scenarios (each starts its own `mtakit serve` on port 0 and kills it by PID):
  patho    the rule `(?:[a-j]{1,100}){20}Q` and one message of --size-patho
           bytes of [a-j] lines (scaled down from the report's 1 MB, which
           froze the old server for 41 s). A binary that refuses the rule at
           load time is reported as such, and the worst pattern it does
           accept, `(?:[a-j]{1,20}){20}[k-z]`, is measured instead.
  real     three realistic message rules and one --size-real message.
  scoped   `times = 1` on RCPT: client 1 connects, client 2 sends RCPT first;
           then client 1's RCPT. With `scope = "session"` (new) client 1 still
           gets its fault; the old server has only a global count.
For patho and real, client B (greeted before) sends NOOP in a loop while
client A's message is matched; printed: the largest NOOP round trip, one
GET /api/faults round trip, and how long A waited for its reply.
Everything is on loopback, every loop is bounded in count and time.
"""
import json
import os
import socket
import sys
import tempfile
import threading
import time
import urllib.request

import common

DEADLINE = 120.0  # seconds, per scenario


def start(binary, rules_toml, extra=()):
    """(proc, ports, None), or (proc, None, stderr) when the server refused
    to start (a rule refused at load time)."""
    tmp = tempfile.mkdtemp(prefix="faultbench")
    rules = os.path.join(tmp, "faults.toml")
    with open(rules, "w") as f:
        f.write(rules_toml)
    try:
        proc, ports, _ = common.start(
            binary, ["--quiet", "--faults", rules, *extra], timeout=10)
    except common.StartFailed as failed:
        return None, None, failed.stderr
    return proc, ports, None


stop = common.stop


class Smtp:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=DEADLINE)
        self.buf = b""
        self.reply()

    def reply(self):
        while True:
            while b"\r\n" not in self.buf:
                chunk = self.s.recv(65536)
                if not chunk:
                    raise EOFError("closed")
                self.buf += chunk
            line, self.buf = self.buf.split(b"\r\n", 1)
            if line[3:4] == b" ":
                return int(line[:3])

    def cmd(self, line):
        self.s.sendall(line.encode() + b"\r\n")
        return self.reply()


def message(size):
    line = b"abcdefghij" * 90 + b"\r\n"
    body = b"Subject: bench\r\n\r\n" + line * max(1, size // len(line))
    return body + b".\r\n"


def stall(port, http, size):
    """A sends one message of `size`; B sends NOOPs meanwhile."""
    a, b = Smtp(port), Smtp(port)
    b.cmd("EHLO b.example")
    a.cmd("EHLO a.example")
    a.cmd("MAIL FROM:<a@example.com>")
    a.cmd("RCPT TO:<b@example.com>")
    assert a.cmd("DATA") == 354
    done = {}

    def sender():
        t = time.time()
        a.s.sendall(message(size))
        done["sent"] = time.time()
        done["code"] = a.reply()
        done["wait"] = time.time() - done["sent"]
        done["total"] = time.time() - t

    api = {}

    def http_probe():
        end = time.time() + DEADLINE
        while "sent" not in done and time.time() < end:
            time.sleep(0.005)
        t = time.time()
        urllib.request.urlopen(f"http://127.0.0.1:{http}/api/faults", timeout=DEADLINE).read()
        api["ms"] = round((time.time() - t) * 1000, 1)

    th = threading.Thread(target=sender, daemon=True)
    probe = threading.Thread(target=http_probe, daemon=True)
    th.start()
    probe.start()
    worst, count = 0.0, 0
    end = time.time() + DEADLINE
    # NOOPs from the start of the upload until A's reply (the match runs
    # after the upload, so the worst round trip covers it).
    while th.is_alive() and time.time() < end and count < 100000:
        t = time.time()
        b.cmd("NOOP")
        worst = max(worst, time.time() - t)
        count += 1
        time.sleep(0.005)
    th.join(timeout=DEADLINE)
    probe.join(timeout=DEADLINE)
    return {"noop_max_ms": round(worst * 1000, 1), "noops": count,
            "api_faults_ms": api.get("ms"),
            "reply": done.get("code"), "reply_wait_s": round(done.get("wait", -1), 2)}


def run_stall(binary, name, patterns, size):
    toml = "".join(
        f'[[rules]]\nstage = "message"\nmatch = {json.dumps(p)}\nreply = "554 5.7.1 matched"\n\n'
        for p in patterns)
    proc, ports, error = start(binary, toml)
    if ports is None:
        last = error.strip().splitlines()[-1] if error.strip() else "?"
        print(f"{name}: refused at load: {last}")
        return False
    try:
        result = stall(ports["smtp"], ports["http"], size)
        print(f"{name}: {size} bytes, {patterns}: {result}")
    finally:
        stop(proc)
    return True


def run_scoped(binary):
    for scope in ("session", None):
        toml = '[[rules]]\nstage = "rcpt"\nreply = "451 4.3.0 test fault"\ntimes = 1\n'
        if scope:
            toml += f'scope = "{scope}"\n'
        proc, ports, error = start(binary, toml)
        if ports is None:
            print(f"scoped ({scope}): refused: {error.strip().splitlines()[-1]}")
            continue
        try:
            one, two = Smtp(ports["smtp"]), Smtp(ports["smtp"])
            for c in (one, two):
                c.cmd("EHLO x.example")
                c.cmd("MAIL FROM:<a@example.com>")
            other = two.cmd("RCPT TO:<b@example.com>")
            mine = one.cmd("RCPT TO:<b@example.com>")
            print(f"scoped ({scope or 'global'}): other client got {other}, the test's client got {mine}")
        finally:
            stop(proc)


def main():
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    binary = sys.argv[1]
    args = sys.argv[2:]
    size_patho = int(args[args.index("--size-patho") + 1]) if "--size-patho" in args else 100_000
    size_real = int(args[args.index("--size-real") + 1]) if "--size-real" in args else 10_000_000
    if not run_stall(binary, "patho", [r"(?:[a-j]{1,100}){20}Q"], size_patho):
        run_stall(binary, "patho-worst-accepted", [r"(?:[a-j]{1,20}){20}[k-z]"], size_patho)
        run_stall(binary, "patho-worst-accepted-1MB", [r"(?:[a-j]{1,20}){20}[k-z]"], 1_000_000)
    run_stall(binary, "real", [r"(?is)subject:.*password reset", r"(?i)\bviagra\b",
                               r"(?s)X-Test-Case: (\d+).*FAIL"], size_real)
    run_scoped(binary)


if __name__ == "__main__":
    main()
