"""The in-memory session (``mtakit._mtakit._Harness``), and what pymta
compatibility added to the server: ``accept_ehlo``, ``Verdict.accept`` /
``reject`` with ``close=True``, and ``Server(disable=[...])``."""

from __future__ import annotations

import smtplib
import threading
from collections.abc import Iterator

import pytest

import mtakit
from mtakit import Reply, Session, Verdict
from mtakit._mtakit import _Harness
from mtakit.testing import TestServer


class Recorder(mtakit.Policy, mtakit.Authenticator, mtakit.Deliverer):
    """Records hook calls and the thread they ran on."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.threads: set[str] = set()
        self.delivered: list[mtakit.Message] = []

    def note(self, name: str) -> None:
        self.calls.append(name)
        self.threads.add(threading.current_thread().name)

    def accept_connection(self, session: Session) -> None:
        self.note("connection")

    def accept_helo(self, session: Session, helo: str) -> None:
        self.note(f"helo {helo}")

    def accept_ehlo(self, session: Session, helo: str) -> None:
        self.note(f"ehlo {helo}")

    def accept_auth(self, session: Session, mechanism: str) -> None:
        self.note(f"auth {mechanism}")

    def authenticate(self, session: Session, mechanism: str, username: str, password: str) -> bool:
        self.note(f"authenticate {username}")
        return password == "secret"

    def accept_mail_from(self, session: Session, sender: str, params: dict[str, str | None]) -> bool:
        self.note(f"mail {sender} {sorted(params)}")
        return sender != "spam@example.com"

    def accept_rcpt_to(self, session: Session, recipient: str, params: dict[str, str | None]) -> None:
        self.note(f"rcpt {recipient}")

    def accept_data(self, session: Session) -> None:
        self.note("data")

    def accept_message(self, session: Session, message: mtakit.Message) -> None:
        self.note(f"message {message.data!r}")

    def deliver(self, message: mtakit.Message) -> None:
        self.delivered.append(message)


def codes(replies: list[Reply]) -> list[int]:
    return [reply.code for reply in replies]


def test_a_dialogue_in_memory_calls_every_hook_on_this_thread() -> None:
    hooks = Recorder()
    h = _Harness(policy=hooks, authenticator=hooks, deliverer=hooks, hostname="mx.test")
    [greeting] = h.start()
    assert str(greeting) == "220 mx.test ESMTP mtakit"
    assert codes(h.feed(b"HELO a\r\nEHLO b\r\n")) == [250, 250]
    assert codes(h.feed(b"AUTH PLAIN AGFsaWNlAHNlY3JldA==\r\n")) == [235]
    assert codes(h.feed(b"MAIL FROM:<spam@example.com>\r\n")) == [550]
    assert codes(h.feed(b"MAIL FROM:<a@example.com> SIZE=10\r\nRCPT TO:<b@example.com>\r\n")) == [250, 250]
    assert codes(h.feed(b"DATA\r\n")) == [354]
    assert codes(h.feed(b"hi\r\n.\r\n")) == [250]
    assert hooks.calls == [
        "connection",
        "helo a",
        "ehlo b",
        "auth PLAIN",
        "authenticate alice",
        "mail spam@example.com []",
        "mail a@example.com ['SIZE']",
        "rcpt b@example.com",
        "data",
        "message b'hi\\r\\n'",
    ]
    assert hooks.threads == {threading.current_thread().name}
    [message] = hooks.delivered
    assert (message.mail_from, message.rcpt_to, message.helo) == ("a@example.com", ["b@example.com"], "b")
    assert message.auth is not None and message.auth.username == "alice"
    assert h.session.auth is not None and not h.closed
    assert codes(h.feed(b"QUIT\r\n")) == [221]
    assert h.closed and h.feed(b"NOOP\r\n") == []
    assert len(h.replies) == 10


def test_ehlo_goes_to_accept_helo_unless_accept_ehlo_is_overridden() -> None:
    class HeloOnly(mtakit.Policy):
        seen: list[str] = []

        def accept_helo(self, session: Session, helo: str) -> bool:
            self.seen.append(helo)
            return helo != "bad"

    h = _Harness(policy=HeloOnly())
    h.start()
    assert codes(h.feed(b"EHLO bad\r\nEHLO good\r\n")) == [550, 250]
    assert HeloOnly.seen == ["bad", "good"]


def test_a_raising_hook_gives_451_then_raises() -> None:
    class Broken(mtakit.Policy):
        def accept_rcpt_to(self, session: Session, recipient: str, params: dict[str, str | None]) -> None:
            raise KeyError("bug")

    h = _Harness(policy=Broken())
    h.start()
    h.feed(b"HELO a\r\nMAIL FROM:<a@example.com>\r\n")
    with pytest.raises(KeyError, match="bug"):
        h.feed(b"RCPT TO:<b@example.com>\r\n")
    assert h.replies[-1].code == 451
    assert codes(h.feed(b"NOOP\r\n")) == [250]


def test_async_hooks_and_bad_arguments_raise_clearly() -> None:
    class Async(mtakit.Policy):
        async def accept_helo(self, session: Session, helo: str) -> None:
            return None

    h = _Harness(policy=Async())
    h.start()
    with pytest.raises(TypeError, match="synchronously"):
        h.feed(b"HELO a\r\n")
    with pytest.raises(ValueError, match="IP address"):
        _Harness(peer=("not an ip", 25))
    with pytest.raises(ValueError, match="cannot disable"):
        _Harness(disable=["nonsense"])


def test_close_true_and_disable_without_sockets() -> None:
    class Closing(mtakit.Policy):
        def accept_helo(self, session: Session, helo: str) -> Verdict:
            if helo == "bye":
                return Verdict.reject(close=True)
            return Verdict.accept(close=True)

    for helo, code in [("bye", 550), ("hello", 250)]:
        h = _Harness(policy=Closing(), disable=["enhancedstatuscodes"])
        h.start()
        [reply] = h.feed(f"EHLO {helo}\r\n".encode())
        assert reply.code == code and h.closed
        assert reply.enhanced_code is None


@pytest.fixture
def server_with_close() -> Iterator[int]:
    class Policy(mtakit.Policy):
        def accept_ehlo(self, session: Session, helo: str) -> Verdict:
            return Verdict.accept(close=helo == "last")

    server = mtakit.Server(policy=Policy(), disable=["enhancedstatuscodes", "pipelining"])
    with server.start(("127.0.0.1", 0)) as listening:
        yield listening.port


def test_server_honours_accept_ehlo_close_and_disable(server_with_close: int) -> None:
    with smtplib.SMTP("127.0.0.1", server_with_close, timeout=10) as smtp:
        code, lines = smtp.ehlo("first")
        assert code == 250 and b"PIPELINING" not in lines
        assert smtp.noop() == (250, b"OK")
        assert smtp.ehlo("last")[0] == 250
        with pytest.raises(smtplib.SMTPServerDisconnected):
            smtp.noop()


def test_verdict_close_keyword() -> None:
    assert Verdict.accept(close=True).closes and Verdict.accept(close=True).accepted
    assert Verdict.reject("550 No", close=True).closes
    assert not Verdict.reject().closes
    with TestServer() as smtp:  # the default is unchanged
        assert smtp.port > 0
