"""redteam.md §3, scaled: S sessions of K pipelined `NOOP <505 x>` lines,
then the RSS, the size and time of GET /api/sessions, and the largest NOOP
round trip an unrelated SMTP client saw during that GET.

usage: python3 transcripts.py BINARY [S=50] [K=5000]
"""

import http.client
import socket
import sys
import threading
import time

from common import Smtp, start, status, stop

binary = sys.argv[1]
sessions = int(sys.argv[2]) if len(sys.argv) > 2 else 50
noops = int(sys.argv[3]) if len(sys.argv) > 3 else 5000
proc, ports, _ = start(binary, ["--quiet"])
smtp_port = ports["smtp"]

payload = b"EHLO attacker.example\r\n" + (b"NOOP " + b"x" * 505 + b"\r\n") * noops + b"QUIT\r\n"


def flood():
    s = socket.create_connection(("127.0.0.1", smtp_port), timeout=30)
    sender = threading.Thread(target=s.sendall, args=(payload,))
    sender.start()
    while s.recv(1 << 16):
        pass
    sender.join()
    s.close()


t0 = time.time()
for _ in range(sessions):
    flood()
time.sleep(0.5)
print(f"{sessions} sessions x {noops} NOOPs sent in {time.time() - t0:.1f} s")
print(f"RSS after the sessions: {status(proc.pid, 'VmRSS') // 1024} MB "
      f"(peak {status(proc.pid, 'VmHWM') // 1024} MB)")

# An unrelated client measures NOOP round trips while the list is fetched.
probe = Smtp(smtp_port, timeout=60)
probe.reply()
probe.cmd("EHLO probe.example")
worst = [0.0]
running = [True]


def measure():
    while running[0]:
        t = time.time()
        probe.cmd("NOOP")
        worst[0] = max(worst[0], time.time() - t)
        time.sleep(0.01)


thread = threading.Thread(target=measure)
thread.start()
time.sleep(0.1)
conn = http.client.HTTPConnection("127.0.0.1", ports["http"], timeout=120)
t = time.time()
conn.request("GET", "/api/sessions")
body = conn.getresponse().read()
elapsed = time.time() - t
time.sleep(0.1)
running[0] = False
thread.join(timeout=70)
print(f"GET /api/sessions: {len(body) / 1e6:.3f} MB in {elapsed:.2f} s; "
      f"worst NOOP round trip meanwhile {worst[0] * 1000:.0f} ms")

import json  # noqa: E402

listing = json.loads(body)
first = listing["sessions"][0]
if "entries" not in first:
    t = time.time()
    conn.request("GET", f"/api/sessions/{first['id']}")
    one = conn.getresponse().read()
    print(f"GET /api/sessions/{{id}}: {len(one) / 1e6:.3f} MB in {time.time() - t:.2f} s")
print(f"sessions listed: {len(listing['sessions'])}")
print(f"peak RSS: {status(proc.pid, 'VmHWM') // 1024} MB; alive: {proc.poll() is None}")
stop(proc)
