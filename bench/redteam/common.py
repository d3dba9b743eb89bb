"""Shared helpers for the bench/redteam scripts: start `mtakit serve` on free
ports (loopback only) with --port-file, read its memory, stop it by PID.
Every wait is bounded."""

import json
import os
import socket
import subprocess
import tempfile
import time


class StartFailed(SystemExit):
    """The server exited, or wrote no port file in time; `stderr` says why."""

    def __init__(self, stderr):
        super().__init__("mtakit did not start: " + stderr.strip()[-500:])
        self.stderr = stderr


def start(binary, args, nofile=None, stdout=subprocess.DEVNULL, http=True, timeout=15.0):
    """Starts BINARY serve on free loopback ports (the HTTP API too, unless
    `http` is false); returns (process, ports, tmpdir), with the server's
    stderr in tmpdir/stderr. Raises StartFailed, a SystemExit, if it exits
    or writes no port file within `timeout` seconds."""
    tmp = tempfile.mkdtemp(prefix="mtakit-redteam-")
    port_file = os.path.join(tmp, "ports.json")
    listeners = ["--http", "127.0.0.1:0"] if http else ["--no-http"]
    cmd = [binary, "serve", "--listen", "127.0.0.1:0", *listeners,
           "--port-file", port_file] + list(args)
    if nofile:
        cmd = ["prlimit", f"--nofile={nofile}", "--"] + cmd
    stderr_path = os.path.join(tmp, "stderr")
    proc = subprocess.Popen(cmd, stdout=stdout, stderr=open(stderr_path, "wb"))
    deadline = time.time() + timeout
    while time.time() < deadline and proc.poll() is None:
        try:
            with open(port_file) as f:
                ports = json.load(f)
            return proc, ports, tmp
        except (OSError, ValueError):
            time.sleep(0.05)
    if proc.poll() is None:
        proc.kill()
    proc.wait(timeout=10)
    with open(stderr_path, "rb") as f:
        raise StartFailed(f.read().decode(errors="replace"))


def stop(proc):
    proc.kill()
    proc.wait(timeout=10)


def status(pid, field):
    """A field of /proc/PID/status in kB (VmRSS, VmHWM)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return -1


def open_fds(pid):
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return -1


class Smtp:
    """A tiny blocking SMTP client with a timeout on every read."""

    def __init__(self, port, timeout=5.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""

    def reply(self):
        while True:
            lines = self.buf.split(b"\r\n")
            for i, line in enumerate(lines[:-1]):
                if len(line) >= 4 and line[3:4] == b" ":
                    out = b"\r\n".join(lines[: i + 1])
                    self.buf = b"\r\n".join(lines[i + 1:])
                    return out.decode("utf-8", "replace")
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("closed")
            self.buf += data

    def cmd(self, line):
        self.sock.sendall(line.encode() + b"\r\n")
        return self.reply()

    def close(self):
        self.sock.close()
