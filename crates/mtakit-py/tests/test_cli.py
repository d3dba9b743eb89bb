"""The ``mtakit`` command installed with the package."""

from __future__ import annotations

import json
import signal
import smtplib
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest


def start_serve(tmp_path: Path) -> tuple[subprocess.Popen[str], dict[str, int]]:
    port_file = tmp_path / "ports.json"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mtakit",
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--http",
            "127.0.0.1:0",
            "--port-file",
            str(port_file),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 30
    while not port_file.exists() or not port_file.read_text():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"mtakit serve did not start: {proc.communicate()}")
        time.sleep(0.05)
    ports: dict[str, int] = json.loads(port_file.read_text())
    return proc, ports


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_mtakit_serve_runs_from_the_wheel_and_stops_on_a_signal(
    tmp_path: Path, stop: signal.Signals
) -> None:
    proc, ports = start_serve(tmp_path)
    try:
        with smtplib.SMTP("127.0.0.1", ports["smtp"], timeout=10) as client:
            client.sendmail("a@example.com", ["b@example.com"], "Subject: from python\r\n\r\nx\r\n")
        with urllib.request.urlopen(f"http://127.0.0.1:{ports['http']}/api/messages", timeout=10) as r:
            listing = json.load(r)
        assert "from python" in json.dumps(listing)
        proc.send_signal(stop)
        out, err = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert "Subject: from python" in out
    assert "listening on 127.0.0.1:" in err


def test_mtakit_help_and_bad_arguments() -> None:
    ok = subprocess.run([sys.executable, "-m", "mtakit", "--help"], capture_output=True, text=True, timeout=30)
    assert ok.returncode == 0 and "serve" in ok.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "mtakit", "serve", "--frobnicate"], capture_output=True, text=True, timeout=30
    )
    assert bad.returncode == 2 and "--frobnicate" in bad.stderr
