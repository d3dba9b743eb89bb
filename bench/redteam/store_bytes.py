#!/usr/bin/env python3
"""redteam §4: COUNT messages of SIZE octets into the in-memory store, then
the peak RSS, the store's total, and the list's size. Scaled down from
350 x 10.48 MB to 40 x 8 MB by default. Extra arguments go to the server
(e.g. --store-bytes 67108864).

    python3 store_bytes.py BINARY [COUNT=40] [SIZE=8000000] [SERVER ARGS...]
"""
import json
import sys
import time

from _serve import Server

binary = sys.argv[1]
count = int(sys.argv[2]) if len(sys.argv) > 2 else 40
size = int(sys.argv[3]) if len(sys.argv) > 3 else 8_000_000
server = Server(binary, *sys.argv[4:])
try:
    line = b"x" * 998 + b"\r\n"
    start = time.time()
    for i in range(count):
        head = b"Subject: big %d\r\n\r\n" % i
        server.send(head + line * ((size - len(head)) // len(line)))
    sent = time.time() - start
    status, body, secs = server.get("/api/messages")
    listing = json.loads(body)
    print(f"{count} x {size} octets in {sent:.1f} s: peak RSS {server.hwm_mb():.0f} MB, "
          f"listed {listing['total']} (list {len(body)} octets, {secs:.2f} s)")
finally:
    server.stop()
