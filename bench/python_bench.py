"""The Python package against the Python SMTP test servers, side by side.

Run by bench/python.sh, which installs everything into a virtualenv; it
prints a Markdown section on stdout. Loopback only; every run is bounded
in count and time.

1. Start and stop a test server, median over N runs: mtakit's TestServer,
   aiosmtpd's Controller, smtpdfix's SMTPDFix and pytest-localserver's
   smtp.Server.
2. smtplib from the same interpreter into an in-process test server, lock
   step over one connection: mtakit's TestServer against aiosmtpd's
   Controller with a handler that keeps each message, as a test's would.
3. A server whose every hook is Python (a policy overriding every accept_*
   hook and a deliverer; aiosmtpd: handle_MAIL, handle_RCPT, handle_DATA),
   in its own process, under `mtakit load` with 8 connections; with plain
   hooks, then with async def hooks.
"""

from __future__ import annotations

import argparse
import re
import signal
import smtplib
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

#: Each throughput figure is the median of this many runs.
ROUNDS = 3

MESSAGE = "From: a@example.com\r\nTo: b@example.com\r\nSubject: bench\r\n\r\n" + "x" * 900 + "\r\n"


def median_seconds(runs: int, once: Callable[[], None]) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        once()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


# --- 1. start and stop -------------------------------------------------------


def start_stop_mtakit() -> None:
    from mtakit.testing import TestServer

    TestServer().close()


def start_stop_aiosmtpd() -> None:
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Sink

    # aiosmtpd cannot listen on port 0: a free port is picked first, as its
    # users do.
    controller = Controller(Sink(), hostname="127.0.0.1", port=free_port())
    controller.start()
    controller.stop()


def start_stop_smtpdfix() -> None:
    from smtpdfix import SMTPDFix

    with SMTPDFix("127.0.0.1", free_port()):
        pass


def start_stop_localserver() -> None:
    from pytest_localserver.smtp import Server

    server = Server(host="127.0.0.1", port=free_port())
    server.start()
    server.stop()


# --- 2. smtplib lock step, in process ----------------------------------------


def smtplib_rate(host: str, port: int, messages: int) -> float:
    with smtplib.SMTP(host, port) as client:
        client.ehlo()
        started = time.perf_counter()
        for _ in range(messages):
            client.sendmail("a@example.com", ["b@example.com"], MESSAGE)
        return messages / (time.perf_counter() - started)


def lockstep_mtakit(messages: int) -> float:
    from mtakit.testing import TestServer

    with TestServer() as smtp:
        rate = smtplib_rate(smtp.host, smtp.port, messages)
        assert len(smtp.wait_for_messages(messages)) == messages
        return rate


def lockstep_aiosmtpd(messages: int) -> float:
    from aiosmtpd.controller import Controller

    class Keep:
        def __init__(self) -> None:
            self.messages: list[object] = []

        async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
            self.messages.append(envelope)
            return "250 OK"

    handler = Keep()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        rate = smtplib_rate("127.0.0.1", port, messages)
        assert len(handler.messages) == messages
        return rate
    finally:
        controller.stop()


# --- 3. every hook in Python, under mtakit load -------------------------------

MTAKIT_SERVER = """
import sys, mtakit

class Every(mtakit.Policy):
    {prefix}def accept_connection(self, session): return True
    {prefix}def accept_helo(self, session, helo): return True
    {prefix}def accept_starttls(self, session): return True
    {prefix}def accept_auth(self, session, mechanism): return True
    {prefix}def accept_mail_from(self, session, sender, params): return True
    {prefix}def accept_rcpt_to(self, session, recipient, params): return True
    {prefix}def accept_data(self, session): return True
    {prefix}def accept_message(self, session, message): return True

class Count(mtakit.Deliverer):
    def __init__(self): self.n = 0
    {prefix}def deliver(self, message): self.n += 1

server = mtakit.Server(policy=Every(), deliverer=Count())
server.serve_forever(("127.0.0.1", int(sys.argv[1])))
"""

AIOSMTPD_SERVER = """
import sys, asyncio
from aiosmtpd.controller import Controller

class Every:
    def __init__(self): self.n = 0
    async def handle_MAIL(self, server, session, envelope, address, options):
        envelope.mail_from = address
        return "250 OK"
    async def handle_RCPT(self, server, session, envelope, address, options):
        envelope.rcpt_tos.append(address)
        return "250 OK"
    async def handle_DATA(self, server, session, envelope):
        self.n += 1
        return "250 OK"

controller = Controller(Every(), hostname="127.0.0.1", port=int(sys.argv[1]))
controller.start()
try:
    asyncio.run(asyncio.Event().wait())
except KeyboardInterrupt:
    pass
finally:
    controller.stop()
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_listening(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("the server process died")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("the server did not start")


def under_load(script: str, mtakit_bin: str, messages: int) -> float:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", script, str(port)], stdout=subprocess.DEVNULL)
    try:
        wait_listening(port, proc)
        started = time.perf_counter()
        done = subprocess.run(
            [
                mtakit_bin,
                "load",
                "--connections",
                "8",
                "--reuse",
                "--messages",
                str(messages),
                "--duration",
                "120",
                f"127.0.0.1:{port}",
            ],
            capture_output=True,
            text=True,
            timeout=180,
        )
        wall = time.perf_counter() - started
        sent = re.search(r"messages:\s+(\d+) sent, (\d+) errors", done.stdout)
        if done.returncode != 0 or sent is None or int(sent.group(2)) != 0:
            raise RuntimeError(f"mtakit load failed: {done.stdout}{done.stderr}")
        messages = int(sent.group(1))
        return messages / wall
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


# --- report ------------------------------------------------------------------


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}×" if b else "-"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mtakit-bin", required=True)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    runs = 20 if args.quick else 200
    lockstep = 100 if args.quick else 500
    loaded = 1000 if args.quick else 5000

    import aiosmtpd
    import mtakit

    versions = {
        "mtakit": mtakit.__version__,
        "aiosmtpd": getattr(aiosmtpd, "__version__", "?"),
        "smtpdfix": _version("smtpdfix"),
        "pytest-localserver": _version("pytest-localserver"),
    }

    start_stop = {
        "mtakit `TestServer`": median_seconds(runs, start_stop_mtakit),
        "aiosmtpd `Controller`": median_seconds(runs, start_stop_aiosmtpd),
        "smtpdfix `SMTPDFix`": median_seconds(runs, start_stop_smtpdfix),
        "pytest-localserver `smtp.Server`": median_seconds(runs, start_stop_localserver),
    }
    # Each rate is the median of ROUNDS runs, the servers taking turns.
    rates: dict[str, list[float]] = {k: [] for k in ("ours", "theirs", "sync", "async", "hooks")}
    for _ in range(ROUNDS):
        rates["ours"].append(lockstep_mtakit(lockstep))
        rates["theirs"].append(lockstep_aiosmtpd(lockstep))
        rates["sync"].append(under_load(MTAKIT_SERVER.format(prefix=""), args.mtakit_bin, loaded))
        rates["async"].append(
            under_load(MTAKIT_SERVER.format(prefix="async "), args.mtakit_bin, loaded)
        )
        rates["hooks"].append(under_load(AIOSMTPD_SERVER, args.mtakit_bin, loaded))
    ours, theirs, sync_ours, async_ours, hooks_theirs = (
        statistics.median(rates[k]) for k in ("ours", "theirs", "sync", "async", "hooks")
    )

    out = []
    w = out.append
    w("## Python: the package against the Python test servers")
    w("")
    w(
        f"Written by `bench/python.sh` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} "
        f"({'quick' if args.quick else 'full'} run), CPython {sys.version.split()[0]}, "
        + ", ".join(f"{k} {v}" for k, v in versions.items())
        + ". The mtakit package is a release wheel (`maturin build --release`). "
        f"Loopback only; client and server share the machine's 2 cores. Each msg/s figure is "
        f"the median of {ROUNDS} runs, the servers taking turns."
    )
    w("")
    w(f"**Start and stop** a test server, median of {runs} runs (goal: mtakit no slower than any):")
    w("")
    w("| Server | start + stop, ms | that / mtakit |")
    w("|---|---:|---:|")
    mine = start_stop["mtakit `TestServer`"]
    for name, seconds in start_stop.items():
        w(f"| {name} | {seconds * 1000:.2f} | {ratio(seconds, mine)} |")
    w("")
    w(
        f"**smtplib in the same interpreter**, {lockstep} messages of 1 KiB, lock step over one "
        "connection, into an in-process test server that keeps them (goal: ≥ 3× aiosmtpd):"
    )
    w("")
    w("| mtakit `TestServer` msg/s | aiosmtpd `Controller` msg/s | mtakit / aiosmtpd |")
    w("|---:|---:|---:|")
    w(f"| {ours:,.0f} | {theirs:,.0f} | {ratio(ours, theirs)} |")
    w("")
    w(
        f"**Every hook in Python**, under `mtakit load --connections 8 --reuse --messages {loaded}` "
        "(1 KiB), the server in its own process: mtakit with a `Policy` overriding every `accept_*` "
        "hook and a `Deliverer`; aiosmtpd with `handle_MAIL`, `handle_RCPT` and `handle_DATA` "
        "(goal: ≥ 2× aiosmtpd, with plain and with async hooks). msg/s is messages over the "
        "client's wall time."
    )
    w("")
    w("| mtakit hooks | mtakit msg/s | aiosmtpd msg/s | mtakit / aiosmtpd |")
    w("|---|---:|---:|---:|")
    w(f"| `def` | {sync_ours:,.0f} | {hooks_theirs:,.0f} | {ratio(sync_ours, hooks_theirs)} |")
    w(f"| `async def` | {async_ours:,.0f} | {hooks_theirs:,.0f} | {ratio(async_ours, hooks_theirs)} |")
    w("")
    print("\n".join(out))


def _version(dist: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return "?"


if __name__ == "__main__":
    main()
