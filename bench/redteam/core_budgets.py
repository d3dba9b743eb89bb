#!/usr/bin/env python3
"""Red-team checks of the budgets around the SMTP core (redteam.md §5, §6).

    python3 bench/redteam/core_budgets.py BINARY inflight [CONNS] [MB]
    python3 bench/redteam/core_budgets.py BINARY noread [CONNS] [KB]

`inflight`: CONNS clients (default 300) each send MB megabytes (default 10)
of DATA and never finish it, with `--maildir`; prints the server's peak RSS.
`noread`: CONNS clients (default 400) each pipeline KB kilobytes (default
1000) of `HELP` and never read a reply; prints the peak RSS and the NOOP
round trip an unrelated client saw meanwhile.

Loopback only. Every loop is bounded in count and time; the server is
started on port 0 and killed at the end.
"""

import os
import signal
import socket
import sys
import tempfile
import threading
import time

import common


def rss(pid):
    """(VmRSS, VmHWM) of `pid` in MiB."""
    return common.status(pid, "VmRSS") / 1024, common.status(pid, "VmHWM") / 1024


def start(binary, extra):
    """`mtakit serve --quiet --no-http EXTRA`; returns (process, SMTP port)."""
    proc, ports, _ = common.start(binary, ["--quiet", *extra], http=False, timeout=10)
    return proc, ports["smtp"]


def read_reply(sock):
    data = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk
        lines = data.split(b"\r\n")
        for line in lines[:-1]:
            if len(line) >= 4 and line[3:4] == b" ":
                return data


def open_data(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    read_reply(s)
    for line in [b"EHLO attacker.test", b"MAIL FROM:<a@a.test>", b"RCPT TO:<b@b.test>", b"DATA"]:
        s.sendall(line + b"\r\n")
        read_reply(s)
    return s


def noop_rtt(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=120)
    read_reply(s)
    start = time.time()
    s.sendall(b"NOOP\r\n")
    read_reply(s)
    rtt = time.time() - start
    s.close()
    return rtt


def inflight(binary, conns, mb):
    with tempfile.TemporaryDirectory() as work:
        proc, port = start(binary, ["--maildir", os.path.join(work, "md")])
        chunk = (b"x" * 998 + b"\r\n") * 64
        socks, errors = [], [0]

        def feed(s):
            sent = 0
            try:
                while sent < mb * 1_000_000:
                    s.sendall(chunk)
                    sent += len(chunk)
            except OSError:
                errors[0] += 1

        t0 = time.time()
        threads = []
        for _ in range(conns):
            s = open_data(port)
            socks.append(s)
            t = threading.Thread(target=feed, args=(s,), daemon=True)
            t.start()
            threads.append(t)
        for t in threads:
            t.join(timeout=max(1, 120 - (time.time() - t0)))
        time.sleep(1)
        now, peak = rss(proc.pid)
        # One of them finishes: it gets 250 if it fit, 452 if its content
        # was dropped.
        socks[-1].sendall(b".\r\n")
        last = read_reply(socks[-1]).decode(errors="replace").strip()
        rtt = noop_rtt(port)
        print(f"inflight: {conns} x {mb} MB unfinished, {time.time() - t0:.1f} s; "
              f"RSS {now:.0f} MiB, peak {peak:.0f} MiB; last client's end: {last!r}; "
              f"NOOP from another client {rtt * 1000:.1f} ms; send errors {errors[0]}")
        for s in socks:
            s.close()
        proc.send_signal(signal.SIGKILL)
        proc.wait()


def noread(binary, conns, kb):
    proc, port = start(binary, [])
    batch = b"HELP\r\n" * (kb * 1000 // 6)
    socks = []
    t0 = time.time()

    def flood(s):
        try:
            s.sendall(batch)
        except OSError:
            pass

    threads = []
    for _ in range(conns):
        s = socket.create_connection(("127.0.0.1", port), timeout=20)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        socks.append(s)
        t = threading.Thread(target=flood, args=(s,), daemon=True)
        t.start()
        threads.append(t)
    rtts = []
    for _ in range(5):
        rtts.append(noop_rtt(port))
        time.sleep(0.5)
    for t in threads:
        t.join(timeout=max(1, 30 - (time.time() - t0)))
    now, peak = rss(proc.pid)
    print(f"noread: {conns} clients x {kb} KB of HELP, never reading; RSS {now:.0f} MiB, "
          f"peak {peak:.0f} MiB; NOOP from another client max {max(rtts) * 1000:.1f} ms")
    for s in socks:
        s.close()
    proc.send_signal(signal.SIGKILL)
    proc.wait()


def main():
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    binary, mode = sys.argv[1], sys.argv[2]
    rest = [int(a) for a in sys.argv[3:]]
    if mode == "inflight":
        inflight(binary, *(rest or [300, 10]))
    elif mode == "noread":
        noread(binary, *(rest or [400, 1000]))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
