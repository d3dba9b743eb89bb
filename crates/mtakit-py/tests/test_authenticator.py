"""Authenticators written in Python, sync and async, over real AUTH."""

from __future__ import annotations

import asyncio
import smtplib
import threading

import pytest

import mtakit
from mtakit.testing import TestServer


class Sync(mtakit.Authenticator):
    def __init__(self) -> None:
        self.seen: list[tuple[str, str, str, str | None]] = []
        self.threads: set[str] = set()

    def authenticate(self, session: mtakit.Session, mechanism: str, username: str, password: str) -> bool:
        self.seen.append((mechanism, username, password, session.peer.host))
        self.threads.add(threading.current_thread().name)
        return (username, password) == ("alice", "secret")


class Async(mtakit.Authenticator):
    mechanisms = ("PLAIN",)

    async def authenticate(
        self, session: mtakit.Session, mechanism: str, username: str, password: str
    ) -> bool | str:
        await asyncio.sleep(0)
        if username == "later":
            return "454 4.7.0 Temporary authentication failure"
        return password == "token"


class Broken(mtakit.Authenticator):
    def authenticate(self, session: mtakit.Session, mechanism: str, username: str, password: str) -> bool:
        raise RuntimeError("the user database is down")


def login(smtp: TestServer, username: str, password: str) -> tuple[int, bytes]:
    with smtplib.SMTP(smtp.host, smtp.port) as client:
        try:
            return client.login(username, password)
        except smtplib.SMTPAuthenticationError as e:
            error = e.smtp_error
            return e.smtp_code, error if isinstance(error, bytes) else error.encode()


def test_a_sync_authenticator_sees_the_credentials_on_the_hook_thread() -> None:
    auth = Sync()
    with TestServer(authenticator=auth) as smtp:
        assert login(smtp, "alice", "secret")[0] == 235
        assert login(smtp, "alice", "wrong")[0] == 535
    # smtplib tries LOGIN after PLAIN failed.
    assert [s[:3] for s in auth.seen] == [
        ("PLAIN", "alice", "secret"),
        ("PLAIN", "alice", "wrong"),
        ("LOGIN", "alice", "wrong"),
    ]
    assert auth.seen[0][3] == "127.0.0.1"
    assert auth.threads == {"mtakit-hooks"}


def test_an_async_authenticator_and_its_reply_forms() -> None:
    with TestServer(authenticator=Async()) as smtp:
        with smtplib.SMTP(smtp.host, smtp.port) as client:
            client.ehlo()
            assert client.esmtp_features["auth"].split() == ["PLAIN"]
        assert login(smtp, "bob", "token")[0] == 235
        assert login(smtp, "bob", "nope")[0] == 535
        assert login(smtp, "later", "x") == (454, b"4.7.0 Temporary authentication failure")


def test_require_auth_with_an_authenticator() -> None:
    with TestServer(authenticator=Sync(), require_auth=True) as smtp:
        with smtplib.SMTP(smtp.host, smtp.port) as client:
            with pytest.raises(smtplib.SMTPSenderRefused) as refused:
                client.sendmail("a@example.com", ["b@example.com"], "x")
            assert refused.value.smtp_code == 530
            client.login("alice", "secret")
            client.sendmail("a@example.com", ["b@example.com"], "Subject: ok\r\n\r\nx\r\n")
        assert smtp.wait_for_messages(1)[0].auth is not None


def test_an_exception_in_the_authenticator_gives_451_and_is_raised_in_the_test() -> None:
    smtp = TestServer(authenticator=Broken())
    try:
        code, text = login(smtp, "alice", "secret")
        assert code == 451 and text.startswith(b"4.3.0")
        with pytest.raises(RuntimeError, match="the user database is down"):
            smtp.wait_for_messages(1, timeout=0.2)
    finally:
        smtp.close()


def test_a_hook_error_is_raised_on_exit_too() -> None:
    with pytest.raises(RuntimeError, match="the user database is down"):
        with TestServer(authenticator=Broken()) as smtp:
            login(smtp, "alice", "secret")


def test_users_and_authenticator_together_are_refused() -> None:
    with pytest.raises(ValueError, match="not both"):
        TestServer(users={"a": "b"}, authenticator=Sync())


def test_an_unknown_mechanism_is_refused() -> None:
    class Odd(mtakit.Authenticator):
        mechanisms = ("CRAM-MD5",)

    with pytest.raises(ValueError, match="unknown SASL mechanism 'CRAM-MD5'"):
        TestServer(authenticator=Odd())
