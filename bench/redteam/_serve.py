"""Shared helpers for the bench/redteam scripts: start `mtakit serve` on
loopback with free ports, send mail over SMTP, call the HTTP API, and read
the server's peak RSS and CPU time. Every wait is bounded."""
import os
import signal
import smtplib
import subprocess
import time
import urllib.error
import urllib.request

from common import start


class Server:
    def __init__(self, binary, *extra):
        self.proc, ports, self.dir = start(binary, ["--quiet", *extra], timeout=20)
        self.smtp, self.http = ports["smtp"], ports["http"]

    def alive(self):
        return self.proc.poll() is None

    def status(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            return {k: v.strip() for k, v in (l.split(":", 1) for l in f)}

    def hwm_mb(self):
        return int(self.status()["VmHWM"].split()[0]) / 1024

    def cpu_s(self):
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def get(self, path, timeout=60):
        """(status, body bytes, seconds)"""
        start = time.time()
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.http}{path}", timeout=timeout) as r:
                return r.status, r.read(), time.time() - start
        except urllib.error.HTTPError as e:
            return e.code, e.read(), time.time() - start
        except Exception as e:  # connection reset: the server died
            return None, str(e).encode(), time.time() - start

    def send(self, data, to="b@example.com", timeout=60):
        with smtplib.SMTP("127.0.0.1", self.smtp, timeout=timeout) as s:
            s.sendmail("a@example.com", [to], data)

    def stderr(self):
        with open(os.path.join(self.dir, "stderr"), "rb") as f:
            return f.read().decode(errors="replace")

    def stop(self):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        return self.proc.returncode
