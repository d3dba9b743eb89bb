#!/usr/bin/env python3
"""redteam §1: a message of DEPTH nested message/rfc822 parts, then its
detail, HTML and first attachment. Before the fix the first view aborted
the process (stack overflow). Prints whether the server survived.

    python3 nested_rfc822.py BINARY [DEPTH=50000]
"""
import sys

from _serve import Server

binary = sys.argv[1]
depth = int(sys.argv[2]) if len(sys.argv) > 2 else 50_000
data = (b"Subject: Your verification code\r\n"
        + b"Content-Type: message/rfc822\r\n\r\n" * depth
        + b"Subject: x\r\n\r\nx\r\n")
server = Server(binary)
try:
    server.send(data)
    status, body, _ = server.get("/api/messages")
    mid = __import__("json").loads(body)["messages"][0]["id"]
    for path in ["", "/html", "/attachments/0", "/raw"]:
        status, body, secs = server.get(f"/api/messages/{mid}{path}")
        print(f"GET /api/messages/ID{path}: {status} in {secs:.2f} s, {len(body)} octets")
        if not server.alive():
            break
    alive = server.alive()
    print(f"depth {depth} ({len(data)} octets): server {'survived' if alive else 'DIED'}"
          + ("" if alive else f" (exit {server.proc.wait(5)})"))
finally:
    server.stop()
