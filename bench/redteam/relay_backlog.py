#!/usr/bin/env python3
"""redteam §12: relay fan-out with a next hop that accepts TCP and never
greets. N messages of M bytes go in over SMTP (with --maildir, so nothing
needs to stay in memory); reports the relay sockets open at the next hop
(most at once) and the server's peak RSS (VmHWM).

usage: relay_backlog.py BINARY [N=100] [BYTES=2000000]"""
import shutil
import sys
import tempfile
import time

from d_common import Recorder, Smtp, start, stop, vm_hwm_kb


def main():
    binary = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    size = int(sys.argv[3]) if len(sys.argv) > 3 else 2_000_000
    line = b"x" * 998 + b"\r\n"
    body = b"Subject: big\r\n\r\n" + line * (size // len(line))
    rec = Recorder(greet=False)
    maildir = tempfile.mkdtemp(prefix="mtakit-backlog-")
    proc, smtp, _ = start(binary, "--maildir", maildir,
                          "--relay", f"smtp://127.0.0.1:{rec.port}")
    try:
        t0 = time.time()
        s = Smtp(smtp)
        s.cmd("EHLO client.example")
        accepted = 0
        for _ in range(n):
            if time.time() - t0 > 60:
                break
            s.cmd("MAIL FROM:<a@example.com>")
            s.cmd("RCPT TO:<b@example.com>")
            s.cmd("DATA")
            s.send(body)
            code, _ = s.cmd(".")
            accepted += code == 250
        s.close()
        time.sleep(1.0)  # let the relay tasks connect
        print(f"{accepted}/{n} messages of {len(body)} bytes accepted in "
              f"{time.time() - t0:.1f} s; relay sockets open at once (max): "
              f"{rec.max_open}, open now: {rec.open}; "
              f"server peak RSS: {vm_hwm_kb(proc.pid) / 1024:.0f} MiB")
    finally:
        stop(proc)
        rec.close()
        shutil.rmtree(maildir, ignore_errors=True)


if __name__ == "__main__":
    main()
