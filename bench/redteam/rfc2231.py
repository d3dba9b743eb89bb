#!/usr/bin/env python3
"""redteam §15: a message whose Content-Type has N RFC 2231 continuations
(`n*0=a; n*1=a; ...`). Prints the server CPU time spent on the first list
and on the detail, and their latency. Scaled down from 800,000 (9.5 MB) to
N=200,000 (about 2.4 MB) by default.

    python3 rfc2231.py BINARY [N=200000]
"""
import json
import sys

from _serve import Server

binary = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 200_000
params = b"; ".join(b"n*%d=a" % i for i in range(n))
data = b"Subject: params\r\nContent-Type: text/plain; " + params + b"\r\n\r\nbody\r\n"
server = Server(binary)
try:
    cpu0 = server.cpu_s()
    server.send(data)
    status, body, list_s = server.get("/api/messages")
    cpu1 = server.cpu_s()
    mid = json.loads(body)["messages"][0]["id"]
    status, body, detail_s = server.get(f"/api/messages/{mid}")
    cpu2 = server.cpu_s()
    print(f"N={n} ({len(data)} octets): send+list {cpu1 - cpu0:.2f} s CPU, list {list_s:.2f} s; "
          f"detail {status} {cpu2 - cpu1:.2f} s CPU, {detail_s:.2f} s; alive={server.alive()}")
finally:
    server.stop()
