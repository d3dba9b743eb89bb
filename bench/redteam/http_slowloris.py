"""redteam.md §7, scaled: N half-sent HTTP requests against mtakit serve
running with RLIMIT_NOFILE=1024 and --maildir. Does a new SMTP client get
its 220, and does a Maildir delivery succeed?

usage: python3 http_slowloris.py BINARY [N=1100]
"""

import os
import resource
import select
import socket
import sys
import tempfile
import time

from common import Smtp, open_fds, start, stop

binary = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 1100
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

maildir = os.path.join(tempfile.mkdtemp(prefix="mtakit-slowloris-"), "mail")
proc, ports, tmp = start(binary, ["--maildir", maildir], nofile=1024)
http = ("127.0.0.1", ports["http"])
print(f"server pid {proc.pid}, fds at start {open_fds(proc.pid)}")

# A session opened before the attack, which delivers during it.
early = Smtp(ports["smtp"], timeout=5)
early.reply()
early.cmd("EHLO early.example")
early.cmd("MAIL FROM:<a@example.com>")
early.cmd("RCPT TO:<b@example.com>")

# Non-blocking connects, bounded to 3 seconds in all.
pending, hogs = [], []
for _ in range(n):
    s = socket.socket()
    s.setblocking(False)
    s.connect_ex(http)
    pending.append(s)
deadline = time.time() + 3
poller = select.poll()
by_fd = {s.fileno(): s for s in pending}
for fd in by_fd:
    poller.register(fd, select.POLLOUT)
while pending and time.time() < deadline:
    for fd, _ in poller.poll(max(0, int((deadline - time.time()) * 1000))):
        poller.unregister(fd)
        s = by_fd[fd]
        pending.remove(s)
        if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0:
            try:
                s.send(b"GET /api/messages HTTP/1.1\r\nHost: 127.0.0.1\r\n")
                hogs.append(s)
            except OSError:
                s.close()
        else:
            s.close()
print(f"half-sent requests: {len(hogs)} connected, {len(pending)} still connecting after 3 s")
time.sleep(1.0)
print(f"server fds during the attack: {open_fds(proc.pid)}")

try:
    early.cmd("DATA")
    early_reply = early.cmd("Subject: early\r\n\r\nopened before\r\n.")
except Exception as e:  # noqa: BLE001
    early_reply = f"failed ({e.__class__.__name__}: {e})"
print(f"Maildir delivery in a session opened before: {early_reply!r}")

greeting, delivery = "none", "not tried"
t0 = time.time()
try:
    c = Smtp(ports["smtp"], timeout=5)
    greeting = c.reply()
    c.cmd("EHLO bench.example")
    c.cmd("MAIL FROM:<a@example.com>")
    c.cmd("RCPT TO:<b@example.com>")
    c.cmd("DATA")
    delivery = c.cmd("Subject: slowloris\r\n\r\nstill here\r\n.")
    c.cmd("QUIT")
    c.close()
except Exception as e:  # noqa: BLE001 - report whatever happened
    if greeting == "none":
        greeting = f"none ({e.__class__.__name__}: {e})"
    else:
        delivery = f"failed ({e.__class__.__name__}: {e})"
print(f"new SMTP client greeting: {greeting!r} after {time.time() - t0:.2f} s")
print(f"Maildir delivery by the new client: {delivery!r}")
new = os.listdir(os.path.join(maildir, "new")) if os.path.isdir(os.path.join(maildir, "new")) else []
print(f"files in Maildir new/: {len(new)}")
print(f"server alive: {proc.poll() is None}")
for s in hogs + pending:
    s.close()
stop(proc)
