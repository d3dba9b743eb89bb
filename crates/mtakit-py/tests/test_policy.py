"""Policies written in Python: every hook, sync and async, every verdict
form, over real sessions with smtplib."""

from __future__ import annotations

import asyncio
import smtplib
import ssl
import threading
from typing import Any

import pytest

import mtakit
from mtakit import Reply, Session, Verdict
from mtakit.testing import TestServer

HOOKS = [
    "accept_connection",
    "accept_helo",
    "accept_starttls",
    "accept_auth",
    "accept_mail_from",
    "accept_rcpt_to",
    "accept_data",
    "accept_message",
]


class Recorder(mtakit.Policy):
    """Records every hook call, with its arguments."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.threads: set[str] = set()

    def note(self, name: str, arg: Any = None) -> None:
        self.calls.append((name, arg))
        self.threads.add(threading.current_thread().name)

    def accept_connection(self, session: Session) -> None:
        self.note("accept_connection", session.peer.host)

    def accept_helo(self, session: Session, helo: str) -> None:
        self.note("accept_helo", helo)

    def accept_starttls(self, session: Session) -> None:
        self.note("accept_starttls")

    def accept_auth(self, session: Session, mechanism: str) -> None:
        self.note("accept_auth", mechanism)

    def accept_mail_from(self, session: Session, sender: str, params: dict[str, str | None]) -> None:
        self.note("accept_mail_from", (sender, params))

    def accept_rcpt_to(self, session: Session, recipient: str, params: dict[str, str | None]) -> None:
        self.note("accept_rcpt_to", (recipient, params, session.mail_from, list(session.rcpt_to)))

    def accept_data(self, session: Session) -> None:
        self.note("accept_data", list(session.rcpt_to))

    def accept_message(self, session: Session, message: mtakit.Message) -> None:
        self.note("accept_message", message.subject)


class AsyncRecorder(Recorder):
    """The same hooks, as ``async def``."""

    async def accept_connection(self, session: Session) -> None:  # type: ignore[override]
        await asyncio.sleep(0)
        self.note("accept_connection", session.peer.host)

    async def accept_helo(self, session: Session, helo: str) -> None:  # type: ignore[override]
        await asyncio.sleep(0)
        self.note("accept_helo", helo)

    async def accept_starttls(self, session: Session) -> None:  # type: ignore[override]
        self.note("accept_starttls")

    async def accept_auth(self, session: Session, mechanism: str) -> None:  # type: ignore[override]
        self.note("accept_auth", mechanism)

    async def accept_mail_from(  # type: ignore[override]
        self, session: Session, sender: str, params: dict[str, str | None]
    ) -> None:
        self.note("accept_mail_from", (sender, params))

    async def accept_rcpt_to(  # type: ignore[override]
        self, session: Session, recipient: str, params: dict[str, str | None]
    ) -> None:
        await asyncio.sleep(0.001)
        self.note("accept_rcpt_to", (recipient, params, session.mail_from, list(session.rcpt_to)))

    async def accept_data(self, session: Session) -> None:  # type: ignore[override]
        self.note("accept_data", list(session.rcpt_to))

    async def accept_message(self, session: Session, message: mtakit.Message) -> None:  # type: ignore[override]
        self.note("accept_message", message.subject)


@pytest.mark.parametrize("policy_class", [Recorder, AsyncRecorder])
def test_every_hook_is_called_in_order_with_its_arguments(policy_class: type[Recorder]) -> None:
    policy = policy_class()
    with TestServer(policy=policy, tls="starttls", users={"alice": "secret"}) as smtp:
        assert smtp.tls is not None
        context = ssl.create_default_context(cafile=smtp.tls.ca_path)
        with smtplib.SMTP("localhost", smtp.port) as client:
            client.ehlo("client.example")
            client.starttls(context=context)
            client.ehlo("client.example")
            client.login("alice", "secret")
            client.sendmail(
                "a@example.com",
                ["b@example.com", "c@example.com"],
                "Subject: hooks\r\n\r\nx\r\n",
                rcpt_options=["NOTIFY=SUCCESS,FAILURE"],
            )
        smtp.wait_for_messages(1)
    names = [name for name, _ in policy.calls]
    assert names == [
        "accept_connection",
        "accept_helo",
        "accept_starttls",
        "accept_helo",
        "accept_auth",
        "accept_mail_from",
        "accept_rcpt_to",
        "accept_rcpt_to",
        "accept_data",
        "accept_message",
    ]
    args = dict(policy.calls)
    assert args["accept_connection"] == "127.0.0.1"
    assert args["accept_helo"] == "client.example"
    assert args["accept_auth"] == "PLAIN"
    sender, mail_params = args["accept_mail_from"]
    assert sender == "a@example.com" and "SIZE" in mail_params
    rcpts = [arg for name, arg in policy.calls if name == "accept_rcpt_to"]
    assert rcpts[0] == ("b@example.com", {"NOTIFY": "SUCCESS,FAILURE"}, "a@example.com", [])
    assert rcpts[1][3] == ["b@example.com"], "the envelope so far"
    assert args["accept_data"] == ["b@example.com", "c@example.com"]
    assert args["accept_message"] == "hooks"
    if policy_class is Recorder:
        assert policy.threads == {"mtakit-hooks"}
    else:
        assert policy.threads == {"mtakit-async-hooks"}


def test_hooks_that_are_not_overridden_are_not_called(monkeypatch: pytest.MonkeyPatch) -> None:
    called: list[str] = []

    def spy(name: str) -> Any:
        def hook(self: mtakit.Policy, *args: Any) -> None:
            called.append(name)

        return hook

    # The base class's hooks now record calls: none may be made.
    for name in HOOKS:
        monkeypatch.setattr(mtakit.Policy, name, spy(name))

    class OnlyRcpt(mtakit.Policy):
        def __init__(self) -> None:
            self.count = 0

        def accept_rcpt_to(self, session: Session, recipient: str, params: dict[str, str | None]) -> bool:
            self.count += 1
            return recipient.endswith("@example.com")

    policy = OnlyRcpt()
    with TestServer(policy=policy) as smtp, smtplib.SMTP(smtp.host, smtp.port) as client:
        refused = client.sendmail("a@x.org", ["ok@example.com", "no@other.org"], "Subject: s\r\n\r\nx\r\n")
        assert refused == {"no@other.org": (550, b"5.7.1 relay not permitted")}
    assert policy.count == 2
    assert called == []


class Forms(mtakit.Policy):
    """Answers RCPT TO according to the recipient's local part."""

    def accept_rcpt_to(self, session: Session, recipient: str, params: dict[str, str | None]) -> Any:
        local = recipient.split("@")[0]
        return {
            "none": None,
            "true": True,
            "false": False,
            "verdict-accept": Verdict.accept(Reply(250, "2.1.5", "Welcome aboard")),
            "verdict-reject": Verdict.reject(Reply(550, "5.1.1", ["No such user", "Try another"])),
            "reply-ok": Reply(251, "2.1.5", "Will forward"),
            "reply-no": Reply(452, "4.2.2", "Mailbox full"),
            "string": "553 5.1.3 Bad address",
            "tuple-no": (False, (554, "5.7.1 Go away")),
            "tuple-yes": (True, None),
            "tuple-lines": (False, (550, ["line one", "line two"])),
        }[local]


@pytest.mark.parametrize(
    ("local", "code", "text"),
    [
        ("none", 250, b"2.1.5 OK"),
        ("true", 250, b"2.1.5 OK"),
        ("false", 550, b"5.7.1 relay not permitted"),
        ("verdict-accept", 250, b"2.1.5 Welcome aboard"),
        ("verdict-reject", 550, b"5.1.1 No such user\n5.1.1 Try another"),
        ("reply-ok", 251, b"2.1.5 Will forward"),
        ("reply-no", 452, b"4.2.2 Mailbox full"),
        ("string", 553, b"5.1.3 Bad address"),
        ("tuple-no", 554, b"5.7.1 Go away"),
        ("tuple-yes", 250, b"2.1.5 OK"),
        ("tuple-lines", 550, b"line one\nline two"),
    ],
)
def test_every_verdict_form(local: str, code: int, text: bytes) -> None:
    with TestServer(policy=Forms()) as smtp, smtplib.SMTP(smtp.host, smtp.port) as client:
        client.ehlo()
        client.mail("a@example.com")
        assert client.rcpt(f"{local}@example.com") == (code, text)


def test_disconnect_closes_the_connection() -> None:
    class Hangup(mtakit.Policy):
        def accept_mail_from(self, session: Session, sender: str, params: dict[str, str | None]) -> Verdict:
            return Verdict.disconnect("421 4.7.0 Not today")

    with TestServer(policy=Hangup()) as smtp, smtplib.SMTP(smtp.host, smtp.port) as client:
        client.ehlo()
        assert client.mail("a@example.com") == (421, b"4.7.0 Not today")
        with pytest.raises(smtplib.SMTPServerDisconnected):
            client.noop()


def test_a_rejected_connection_gets_554() -> None:
    class NoOne(mtakit.Policy):
        def accept_connection(self, session: Session) -> bool:
            return False

    with TestServer(policy=NoOne()) as smtp:
        with pytest.raises(smtplib.SMTPConnectError) as refused:
            smtplib.SMTP(smtp.host, smtp.port)
        assert refused.value.smtp_code == 554


def test_session_data_lives_as_long_as_the_connection() -> None:
    class Counting(mtakit.Policy):
        def __init__(self) -> None:
            self.seen: list[int] = []

        def accept_rcpt_to(self, session: Session, recipient: str, params: dict[str, str | None]) -> None:
            session.data["n"] = session.data.get("n", 0) + 1
            self.seen.append(session.data["n"])

    policy = Counting()
    with TestServer(policy=policy) as smtp:
        for _ in range(2):
            with smtplib.SMTP(smtp.host, smtp.port) as client:
                client.sendmail("a@example.com", ["1@example.com", "2@example.com"], "Subject: x\r\n\r\nx\r\n")
                client.sendmail("a@example.com", ["3@example.com"], "Subject: y\r\n\r\ny\r\n")
    assert policy.seen == [1, 2, 3, 1, 2, 3]


def test_a_message_hook_sees_the_message_and_can_refuse_it() -> None:
    class NoSpam(mtakit.Policy):
        async def accept_message(self, session: Session, message: mtakit.Message) -> str | None:
            if message.subject and "spam" in message.subject.lower():
                return "554 5.7.1 Looks like spam"
            return None

    with TestServer(policy=NoSpam()) as smtp, smtplib.SMTP(smtp.host, smtp.port) as client:
        with pytest.raises(smtplib.SMTPDataError) as refused:
            client.sendmail("a@example.com", ["b@example.com"], "Subject: Cheap SPAM\r\n\r\nx\r\n")
        assert (refused.value.smtp_code, refused.value.smtp_error) == (554, b"5.7.1 Looks like spam")
        client.sendmail("a@example.com", ["b@example.com"], "Subject: hello\r\n\r\nx\r\n")
        assert [m.subject for m in smtp.wait_for_messages(1)] == ["hello"]


@pytest.mark.parametrize("is_async", [False, True])
def test_an_exception_in_a_hook_gives_451_and_fails_the_test(is_async: bool) -> None:
    class Broken(mtakit.Policy):
        def accept_rcpt_to(self, session: Session, recipient: str, params: dict[str, str | None]) -> None:
            raise KeyError("the lookup table is empty")

    class AsyncBroken(mtakit.Policy):
        async def accept_rcpt_to(
            self, session: Session, recipient: str, params: dict[str, str | None]
        ) -> None:
            await asyncio.sleep(0)
            raise KeyError("the lookup table is empty")

    policy = AsyncBroken() if is_async else Broken()
    smtp = TestServer(policy=policy)
    try:
        with smtplib.SMTP(smtp.host, smtp.port) as client:
            client.ehlo()
            client.mail("a@example.com")
            code, text = client.rcpt("b@example.com")
            assert code == 451 and text.startswith(b"4.3.0")
            assert client.noop()[0] == 250, "the session goes on"
        with pytest.raises(KeyError, match="the lookup table is empty"):
            smtp.wait_for_messages(1, timeout=0.1)
    finally:
        smtp.close()


def test_a_bad_return_value_is_a_type_error_in_the_test() -> None:
    class Odd(mtakit.Policy):
        def accept_data(self, session: Session) -> Any:
            return 42

    smtp = TestServer(policy=Odd())
    with smtplib.SMTP(smtp.host, smtp.port) as client:
        client.ehlo()
        client.mail("a@example.com")
        client.rcpt("b@example.com")
        assert client.docmd("DATA")[0] == 451
    with pytest.raises(TypeError, match="a hook must return"):
        smtp.close()


def test_a_slow_hook_stalls_only_its_own_session() -> None:
    gate = threading.Event()

    class Slow(mtakit.Policy):
        async def accept_helo(self, session: Session, helo: str) -> None:
            if helo == "slow.example":
                while not gate.is_set():
                    await asyncio.sleep(0.01)

    with TestServer(policy=Slow()) as smtp:
        slow = smtplib.SMTP(smtp.host, smtp.port, timeout=10)
        slow.sock.sendall(b"EHLO slow.example\r\n")  # type: ignore[union-attr]
        with smtplib.SMTP(smtp.host, smtp.port, timeout=10) as fast:
            assert fast.ehlo("fast.example")[0] == 250
            fast.sendmail("a@example.com", ["b@example.com"], "Subject: fast\r\n\r\nx\r\n")
        gate.set()
        assert slow.getreply()[0] == 250
        slow.close()
        assert smtp.wait_for_messages(1)[0].subject == "fast"
