"""mtakit.Server: a server built from Python objects, over real sockets."""

from __future__ import annotations

import asyncio
import os
import signal
import smtplib
import ssl
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import aiosmtplib
import pytest

import mtakit
from mtakit import Session

ANY_PORT = ("127.0.0.1", 0)


class Keep(mtakit.Deliverer):
    def __init__(self) -> None:
        self.messages: list[mtakit.Message] = []
        self.arrived = threading.Event()

    def deliver(self, message: mtakit.Message) -> None:
        self.messages.append(message)
        self.arrived.set()


def test_start_serves_in_the_background_with_a_python_deliverer() -> None:
    keep = Keep()
    server = mtakit.Server(hostname="mx.test", deliverer=keep)
    with server.start(ANY_PORT) as listening:
        assert listening.port > 0 and not listening.closed
        with smtplib.SMTP(listening.host, listening.port) as client:
            assert client.ehlo()[1].startswith(b"mx.test")
            client.sendmail("a@example.com", ["b@example.com"], "Subject: kept\r\n\r\nx\r\n")
        assert keep.arrived.wait(10)
    assert listening.closed
    assert [m.subject for m in keep.messages] == ["kept"]


def test_a_deliverer_that_raises_refuses_the_message_with_451() -> None:
    class Full(mtakit.Deliverer):
        def deliver(self, message: mtakit.Message) -> None:
            raise OSError("disk full")

    with mtakit.Server(deliverer=Full()).start(ANY_PORT) as listening:
        with smtplib.SMTP(listening.host, listening.port) as client:
            with pytest.raises(smtplib.SMTPDataError) as refused:
                client.sendmail("a@example.com", ["b@example.com"], "Subject: x\r\n\r\nx\r\n")
            assert refused.value.smtp_code == 451


def test_the_rust_sinks(tmp_path: Path) -> None:
    memory = mtakit.MemorySink()
    with mtakit.Server(deliverer=memory).start(ANY_PORT) as listening:
        with smtplib.SMTP(listening.host, listening.port) as client:
            client.sendmail("a@example.com", ["b@example.com"], "Subject: in memory\r\n\r\nx\r\n")
        assert memory.wait_for_messages(1)[0].subject == "in memory"
        assert len(memory) == 1
    maildir = mtakit.MaildirSink(tmp_path / "mail")
    assert Path(maildir.path) == tmp_path / "mail"
    with mtakit.Server(deliverer=maildir).start(ANY_PORT) as listening:
        with smtplib.SMTP(listening.host, listening.port) as client:
            client.sendmail("a@example.com", ["b@example.com"], "Subject: on disk\r\n\r\nx\r\n")
    [stored] = list((tmp_path / "mail" / "new").iterdir())
    assert b"Subject: on disk" in stored.read_bytes()


def test_a_user_table_tls_and_limits() -> None:
    tls = mtakit.TLS.self_signed()
    assert tls.ca_pem is not None and not tls.implicit
    server = mtakit.Server(
        authenticator=mtakit.UserTable({"alice": "secret"}),
        tls=tls,
        limits=mtakit.Limits(max_message_size=5000, max_recipients=3),
        require_auth=True,
    )
    context = ssl.create_default_context(cadata=tls.ca_pem)
    with server.start(ANY_PORT) as listening, smtplib.SMTP("localhost", listening.port) as client:
        client.ehlo()
        assert "auth" not in client.esmtp_features, "no AUTH before TLS"
        assert client.esmtp_features["size"] == "5000"
        client.starttls(context=context)
        client.ehlo()
        client.login("alice", "secret")
        client.sendmail("a@example.com", ["b@example.com"], "Subject: t\r\n\r\nx\r\n")


def test_implicit_tls() -> None:
    tls = mtakit.TLS.self_signed(implicit=True)
    assert tls.ca_pem is not None
    context = ssl.create_default_context(cadata=tls.ca_pem)
    memory = mtakit.MemorySink()
    with mtakit.Server(tls=tls, deliverer=memory).start(ANY_PORT) as listening:
        with smtplib.SMTP_SSL("localhost", listening.port, context=context) as client:
            client.sendmail("a@example.com", ["b@example.com"], "Subject: tls\r\n\r\nx\r\n")
        [msg] = memory.wait_for_messages(1)
        assert msg.tls is not None


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="max_recipients must be positive"):
        mtakit.Limits(max_recipients=0)
    with pytest.raises(ValueError, match="command_timeout must be a positive number"):
        mtakit.Limits(command_timeout=-1)
    with pytest.raises(OSError, match="cannot use"):
        mtakit.TLS.from_pem("/nonexistent/cert.pem", "/nonexistent/key.pem")
    with pytest.raises(TypeError, match="needs an authenticate"):
        mtakit.Server(authenticator=object())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="needs a deliver"):
        mtakit.Server(deliverer=object())  # type: ignore[arg-type]
    with mtakit.Server().start(ANY_PORT) as listening:
        with pytest.raises(OSError, match="cannot listen"):
            mtakit.Server().start(listening.address)


def test_listen_runs_async_hooks_on_the_running_loop() -> None:
    seen: list[asyncio.AbstractEventLoop] = []

    class LoopPolicy(mtakit.Policy):
        async def accept_rcpt_to(
            self, session: Session, recipient: str, params: dict[str, str | None]
        ) -> bool:
            seen.append(asyncio.get_running_loop())
            return recipient != "no@example.com"

    async def main() -> None:
        memory = mtakit.MemorySink()
        server = mtakit.Server(policy=LoopPolicy(), deliverer=memory)
        async with server.listen(ANY_PORT) as listening:
            client = aiosmtplib.SMTP(hostname=listening.host, port=listening.port)
            await client.connect()
            await client.ehlo()
            await client.mail("a@example.com")
            assert (await client.rcpt("yes@example.com")).code == 250
            with pytest.raises(aiosmtplib.SMTPRecipientRefused):
                await client.rcpt("no@example.com")
            await client.quit()
        assert seen == [asyncio.get_running_loop()] * 2

    asyncio.run(main())


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_serve_forever_stops_gracefully_on_a_signal(stop: signal.Signals) -> None:
    port = _free_port()
    script = textwrap.dedent(
        f"""
        import mtakit
        memory = mtakit.MemorySink()
        mtakit.Server(deliverer=memory).serve_forever(("127.0.0.1", {port}))
        print("stopped with", len(memory), "message(s)", flush=True)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                client = smtplib.SMTP("127.0.0.1", port, timeout=5)
                break
            except ConnectionRefusedError:
                assert time.monotonic() < deadline, "serve_forever did not start"
                assert proc.poll() is None, "the server process died"
        with client:
            client.sendmail("a@example.com", ["b@example.com"], "Subject: x\r\n\r\nx\r\n")
        os.kill(proc.pid, stop)
        out, _ = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert proc.returncode == 0
    assert out.strip() == "stopped with 1 message(s)"


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port
