#!/usr/bin/env python3
"""redteam §4 (second part): COUNT messages whose Subject is SIZE octets,
then GET /api/messages. Prints the list's size and time and the peak RSS.
Scaled down from 40 x 10.4 MB to 10 x 5 MB by default.

    python3 subject_list.py BINARY [COUNT=10] [SIZE=5000000]
"""
import sys

from _serve import Server

binary = sys.argv[1]
count = int(sys.argv[2]) if len(sys.argv) > 2 else 10
size = int(sys.argv[3]) if len(sys.argv) > 3 else 5_000_000
server = Server(binary)
try:
    # One folded Subject line of SIZE octets (folded every 998).
    chunk = b"s" * 996
    folded = b"\r\n ".join([chunk] * (size // len(chunk)))
    for i in range(count):
        server.send(b"Subject: %d " % i + folded + b"\r\n\r\nbody\r\n")
    status, body, secs = server.get("/api/messages", timeout=120)
    print(f"{count} subjects of {size} octets: list {status}, {len(body)} octets in {secs:.2f} s; "
          f"peak RSS {server.hwm_mb():.0f} MB")
finally:
    server.stop()
