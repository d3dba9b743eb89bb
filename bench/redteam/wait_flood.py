#!/usr/bin/env python3
"""redteam §11: STORED messages of SIZE octets, WAITERS requests in
/api/wait?q=needle-i (never matching), then NEW small messages. Prints the
server CPU time the new messages cost, the latency of an unrelated list
request meanwhile, and how many waiters were refused. Scaled down from
200 waiters x 120 MB to 100 waiters x 40 MB by default.

    python3 wait_flood.py BINARY [STORED=20] [SIZE=2000000] [WAITERS=100] [NEW=5] [SERVER ARGS...]
"""
import sys
import threading
import time

from _serve import Server

binary = sys.argv[1]
stored, size, waiters, new = (int(a) for a in (sys.argv[2:6] + ["20", "2000000", "100", "5"][len(sys.argv[2:6]):]))
server = Server(binary, *sys.argv[6:])
results = []
try:
    line = b"y" * 998 + b"\r\n"
    for i in range(stored):
        server.send(b"Subject: stored %d\r\n\r\n" % i + line * (size // len(line)))

    def wait(i):
        results.append(server.get(f"/api/wait?q=needle-{i}&timeout_ms=30000", timeout=40)[0])

    cpu_start = server.cpu_s()
    threads = [threading.Thread(target=wait, args=(i,), daemon=True) for i in range(waiters)]
    for t in threads:
        t.start()
    time.sleep(3)  # let the waiters register and do their first query
    refused = sum(1 for r in results if r == 503)
    cpu0 = server.cpu_s()
    start = time.time()
    for i in range(new):
        server.send(b"Subject: new %d\r\n\r\nsmall\r\n" % i)
    send_s = time.time() - start
    status, body, list_s = server.get("/api/messages?subject=new")
    time.sleep(2)
    cpu1 = server.cpu_s()
    print(f"{waiters} waiters over {stored} x {size} octets: {refused} refused (503); "
          f"registering cost {cpu0 - cpu_start:.2f} s CPU; "
          f"{new} new messages cost {cpu1 - cpu0:.2f} s CPU (sent in {send_s:.2f} s); "
          f"unrelated list {status} in {list_s:.3f} s; peak RSS {server.hwm_mb():.0f} MB; "
          f"alive={server.alive()}")
finally:
    server.stop()
