"""pymta.PythonMTA and pymta.test_util.SMTPTestHelper over real sockets,
driven by smtplib."""

from __future__ import annotations

import smtplib
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from pymta import IMessageDeliverer, IMTAPolicy, Message, Peer, PythonMTA
from pymta.test_util import DebuggingMTA, DummyAuthenticator, MTAThread, SMTPTestHelper

TEXT = "Subject: Test\n\nJust testing...\n.dot line\nend"


@pytest.fixture
def helper() -> Iterator[SMTPTestHelper]:
    mta = SMTPTestHelper(authenticator_class=DummyAuthenticator)
    mta.start_mta()
    yield mta
    mta.stop_mta()


def connect(mta: SMTPTestHelper) -> smtplib.SMTP:
    return smtplib.SMTP(mta.hostname, mta.listen_port, timeout=10)


def test_sendmail_with_login(helper: SMTPTestHelper) -> None:
    assert helper.listen_port != 0
    with connect(helper) as smtp:
        smtp.login("alice", "alice")
        smtp.sendmail("from@example.com", ["a@example.com", "b@example.com"], TEXT)
    msg = helper.get_received_messages().get(timeout=5)
    assert msg.smtp_from == "from@example.com"
    assert msg.smtp_to == ["a@example.com", "b@example.com"]
    assert msg.msg_data == TEXT
    assert msg.username == "alice"
    assert msg.peer.remote_ip == "127.0.0.1"


def test_replies_on_the_wire_have_pymta_texts(helper: SMTPTestHelper) -> None:
    with connect(helper) as smtp:
        code, ehlo = smtp.ehlo("client")
        assert code == 250
        assert ehlo.split(b"\n")[1:] == [b"AUTH PLAIN LOGIN", b"HELP"]
        assert smtp.docmd("AUTH", "PLAIN AGZvbwBiYXI=") == (535, b"Bad username or password")
        assert smtp.docmd("RSET") == (250, b"Reset OK")


def test_two_helpers_listen_side_by_side() -> None:
    first, second = SMTPTestHelper(), SMTPTestHelper()
    try:
        assert first.start_mta()[1] != second.start_mta()[1]
    finally:
        first.stop_mta()
        second.stop_mta()


class Recorder(IMessageDeliverer):
    messages: list[Message] = []

    def new_message_accepted(self, msg: Message) -> None:
        type(self).messages.append(msg)


def serve(mta: PythonMTA) -> MTAThread:
    thread = MTAThread(mta)
    thread.start()
    assert mta.wait_until_ready(10)
    return thread


def test_python_mta_greets_with_its_hostname_and_stops_at_once() -> None:
    mta = PythonMTA("127.0.0.1", 0, Recorder, hostname="mx.example.com")
    thread = serve(mta)
    with socket.create_connection(("127.0.0.1", mta.port), timeout=10) as sock:
        assert sock.recv(100) == b"220 mx.example.com Hello 127.0.0.1\r\n"
        sock.sendall(b"QUIT\r\n")
        assert sock.recv(100) == b"221 mx.example.com closing connection\r\n"
    started = time.monotonic()
    thread.stop()
    assert not thread.is_alive()
    assert time.monotonic() - started < 2


def test_pipelined_commands_in_one_packet() -> None:
    # pymta read one packet as one command (its bug 1).
    Recorder.messages = []
    mta = PythonMTA("127.0.0.1", 0, Recorder, hostname="localhost")
    thread = serve(mta)
    try:
        with socket.create_connection(("127.0.0.1", mta.port), timeout=10) as sock:
            file = sock.makefile("rb")
            file.readline()
            sock.sendall(
                b"EHLO a\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\nDATA\r\n"
            )
            replies = [file.readline() for _ in range(5)]
            assert replies[-1].startswith(b"354 ")
            sock.sendall(b"hello\r\n.\r\nQUIT\r\n")
            assert file.readline() == b"250 OK\r\n"
            assert file.readline().startswith(b"221 ")
        assert [m.msg_data for m in Recorder.messages] == ["hello"]
    finally:
        thread.stop()


class Picky(IMTAPolicy):
    instances = 0

    def __init__(self) -> None:
        type(self).instances += 1

    def accept_rcpt_to(self, new_recipient: str, message: Message) -> bool:
        if new_recipient == "crash@example.com":
            raise RuntimeError("policy bug")
        return new_recipient.endswith("@example.com")

    def ehlo_lines(self, peer: Peer) -> list[str]:
        return ["X-PICKY"]


def test_policy_decides_and_a_raising_hook_gives_451_not_a_dead_server() -> None:
    Picky.instances = 0
    mta = PythonMTA("127.0.0.1", 0, Recorder, Picky, hostname="localhost")
    thread = serve(mta)
    try:
        for _ in range(2):
            with smtplib.SMTP("127.0.0.1", mta.port, timeout=10) as smtp:
                assert smtp.ehlo()[1].split(b"\n")[1:] == [b"X-PICKY", b"HELP"]
                smtp.mail("a@example.com")
                assert smtp.rcpt("b@elsewhere.test") == (550, b"relay not permitted")
                assert smtp.rcpt("crash@example.com")[0] == 451
                assert smtp.rcpt("ok@example.com") == (250, b"OK")
        assert Picky.instances == 1
    finally:
        thread.stop()


def test_shutdown_before_serving_stops_the_next_serve_forever() -> None:
    mta = PythonMTA("127.0.0.1", 0, Recorder, hostname="localhost")
    mta.shutdown_server()
    done = threading.Event()

    def run() -> None:
        mta.serve_forever()
        done.set()

    threading.Thread(target=run, daemon=True).start()
    assert done.wait(5)


def test_a_busy_port_raises() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        mta = PythonMTA("127.0.0.1", taken.getsockname()[1], Recorder, hostname="localhost")
        with pytest.raises(OSError, match="cannot listen"):
            mta.serve_forever()


def test_a_helper_on_a_busy_port_raises_at_start() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        helper = SMTPTestHelper()
        helper.hostname = "127.0.0.1"
        helper.mta = DebuggingMTA("127.0.0.1", taken.getsockname()[1], Recorder)
        started = time.monotonic()
        with pytest.raises(OSError, match="cannot listen"):
            helper.start_mta()
        assert time.monotonic() - started < 5
        helper.stop_mta()


def test_eight_bit_data_and_bare_line_feeds_over_ipv6_or_ipv4() -> None:
    # pymta's worker died on a non-ASCII octet (its bug 8).
    family_host = "::1" if socket.has_ipv6 else "127.0.0.1"
    Recorder.messages = []
    mta = PythonMTA(family_host, 0, Recorder, hostname="localhost")
    try:
        thread = serve(mta)
    except OSError:  # no IPv6 on this machine
        mta = PythonMTA("127.0.0.1", 0, Recorder, hostname="localhost")
        thread = serve(mta)
        family_host = "127.0.0.1"
    try:
        with smtplib.SMTP(family_host, mta.port, timeout=10) as smtp:
            smtp.sendmail("a@example.com", ["b@example.com"], "Subject: é\n\nZoë\nend".encode())
        [msg] = Recorder.messages
        assert msg.msg_data == "Subject: é\n\nZoë\nend"
        assert msg.peer.remote_ip == family_host
    finally:
        thread.stop()


def test_sigterm_stops_serve_forever_in_the_main_thread() -> None:
    import subprocess
    import sys

    script = (
        "from pymta import PythonMTA\n"
        "from pymta.test_util import BlackholeDeliverer\n"
        "import os, signal, threading\n"
        "m = PythonMTA('127.0.0.1', 0, BlackholeDeliverer, hostname='localhost')\n"
        "threading.Thread(target=lambda: (m.wait_until_ready(10),"
        " os.kill(os.getpid(), signal.SIGTERM)), daemon=True).start()\n"
        "m.serve_forever()\n"
        "print('stopped')\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == b"stopped"


def test_a_policy_class_that_raises_fails_the_start_at_once() -> None:
    class Unbuildable(IMTAPolicy):
        def __init__(self) -> None:
            raise RuntimeError("no config")

    helper = SMTPTestHelper(policy_class=Unbuildable)
    started = time.monotonic()
    with pytest.raises(RuntimeError, match="no config"):
        helper.start_mta()
    assert time.monotonic() - started < 5
    helper.stop_mta()


def test_stop_does_not_wait_for_an_idle_client() -> None:
    # pymta's shutdown waited as long as a client stayed connected (bug 13).
    helper = SMTPTestHelper()
    host, port = helper.start_mta()
    with smtplib.SMTP(host, port, timeout=10) as smtp:
        smtp.ehlo()
        started = time.monotonic()
        helper.stop_mta()
        assert time.monotonic() - started < 2
        assert smtp.noop() == (421, b"localhost Service shutting down")
