#!/usr/bin/env python3
"""redteam §8: Maildir API cost with many files. One message is delivered
over SMTP (so the file has the binary's own format), then copied N times
straight into new/ under fresh names. Times GET /api/messages (first and
second call) and GET /api/messages/{id}/raw of one message.

usage: maildir_scan.py BINARY [N=20000]"""
import json
import os
import shutil
import sys
import tempfile
import time
import urllib.request

from d_common import Smtp, start, stop


def timed_get(port, path):
    t0 = time.time()
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=120) as r:
        body = r.read()
    return time.time() - t0, body


def main():
    binary = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 20000
    maildir = tempfile.mkdtemp(prefix="mtakit-scan-")
    try:
        proc, smtp, _ = start(binary, "--maildir", maildir)
        s = Smtp(smtp)
        s.cmd("EHLO client.example")
        s.cmd("MAIL FROM:<a@example.com>")
        s.cmd("RCPT TO:<b@example.com>")
        s.cmd("DATA")
        s.cmd("Subject: template\r\n\r\nbody\r\n.")
        s.close()
        stop(proc)
        new = os.path.join(maildir, "new")
        template = os.path.join(new, os.listdir(new)[0])
        with open(template, "rb") as f:
            data = f.read()
        for i in range(n):
            with open(os.path.join(new, f"{1700000000 + i:x}.00000.1.{i:x}.bench"), "wb") as f:
                f.write(data)
        proc, smtp, port = start(binary, "--maildir", maildir)
        try:
            first, body = timed_get(port, "/api/messages")
            total = json.loads(body)["total"]
            second, _ = timed_get(port, "/api/messages")
            one_id = f"{1700000000 + n // 2:x}.00000.1.{n // 2:x}.bench"
            raw, _ = timed_get(port, f"/api/messages/{one_id}/raw")
            show, _ = timed_get(port, f"/api/messages/{one_id}")
            print(f"{total} messages: list {first:.2f} s (first), {second:.2f} s (again); "
                  f"one message /raw {raw * 1000:.0f} ms, detail {show * 1000:.0f} ms")
        finally:
            stop(proc)
    finally:
        shutil.rmtree(maildir, ignore_errors=True)


if __name__ == "__main__":
    main()
