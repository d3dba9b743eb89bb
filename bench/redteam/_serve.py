"""Shared helpers for the bench/redteam scripts: start `mtakit serve` on
loopback with free ports, send mail over SMTP, call the HTTP API, and read
the server's peak RSS and CPU time. Every wait is bounded."""
import json
import os
import signal
import smtplib
import subprocess
import tempfile
import time
import urllib.error
import urllib.request


class Server:
    def __init__(self, binary, *extra):
        self.dir = tempfile.mkdtemp(prefix="mtakit-bench-")
        port_file = os.path.join(self.dir, "ports.json")
        self.proc = subprocess.Popen(
            [binary, "serve", "--listen", "127.0.0.1:0", "--http", "127.0.0.1:0",
             "--port-file", port_file, "--quiet", *extra],
            stdout=subprocess.DEVNULL, stderr=open(os.path.join(self.dir, "stderr"), "wb"))
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                with open(port_file) as f:
                    ports = json.load(f)
                self.smtp, self.http = ports["smtp"], ports["http"]
                return
            except (OSError, ValueError, KeyError):
                time.sleep(0.05)
        self.stop()
        raise SystemExit("server did not start")

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
