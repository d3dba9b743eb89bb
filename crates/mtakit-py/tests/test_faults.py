"""Fault rules on the test server: mtakit.Fault."""

from __future__ import annotations

import smtplib
import time

import pytest

import mtakit
from mtakit import Fault
from mtakit.testing import TestServer


def test_a_reply_fault_fires_as_often_as_it_is_told() -> None:
    full = Fault("rcpt", reply="452 4.2.2 Mailbox full", matching="^<full@", times=2)
    assert "452 4.2.2 Mailbox full" in repr(full)
    with TestServer(faults=[full]) as smtp, smtplib.SMTP(smtp.host, smtp.port) as client:
        client.ehlo()
        client.mail("a@example.com")
        assert client.rcpt("full@example.com") == (452, b"4.2.2 Mailbox full")
        assert client.rcpt("other@example.com")[0] == 250
        assert client.rcpt("full@example.com")[0] == 452
        assert client.rcpt("full@example.com")[0] == 250, "times=2 is used up"


def test_faults_come_before_the_policy() -> None:
    class Refuse(mtakit.Policy):
        def accept_mail_from(self, session: mtakit.Session, sender: str, params: dict[str, str | None]) -> bool:
            return sender != "blocked@example.com"

    faults = [Fault("mail", reply="421 4.7.0 Maintenance", after=1, times=1)]
    with TestServer(policy=Refuse(), faults=faults) as smtp, smtplib.SMTP(smtp.host, smtp.port) as client:
        client.ehlo()
        assert client.mail("blocked@example.com")[0] == 550, "the policy; the fault skips its first match"
        assert client.mail("a@example.com") == (421, b"4.7.0 Maintenance")


def test_disconnect_and_disconnect_after_reply() -> None:
    with TestServer(faults=[Fault("data", disconnect_after_reply=True)]) as smtp:
        with smtplib.SMTP(smtp.host, smtp.port) as client:
            client.ehlo()
            client.mail("a@example.com")
            client.rcpt("b@example.com")
            assert client.docmd("DATA")[0] == 354
            with pytest.raises(smtplib.SMTPServerDisconnected):
                client.send(b"Subject: x\r\n\r\nx\r\n.\r\n")
                client.getreply()
    with TestServer(faults=[Fault("helo", disconnect=True)]) as smtp:
        with smtplib.SMTP(smtp.host, smtp.port) as client, pytest.raises(smtplib.SMTPServerDisconnected):
            client.ehlo()


def test_a_delay_delays_the_reply() -> None:
    with TestServer(faults=[Fault("rcpt", delay=0.3)]) as smtp, smtplib.SMTP(smtp.host, smtp.port) as client:
        client.ehlo()
        client.mail("a@example.com")
        started = time.monotonic()
        assert client.rcpt("b@example.com")[0] == 250
        assert time.monotonic() - started >= 0.3


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"stage": "frob", "reply": "451 x"}, "unknown stage 'frob'"),
        ({"stage": "rcpt"}, "exactly one of"),
        ({"stage": "rcpt", "reply": "451 x", "disconnect": True}, "exactly one of"),
        ({"stage": "rcpt", "reply": "hello"}, "reply"),
        ({"stage": "rcpt", "delay": 7200}, "delay must be between 0 and 3600 seconds"),
        ({"stage": "rcpt", "reply": "451 x", "matching": "("}, "bad regular expression"),
        ({"stage": "rcpt", "reply": "451 x", "probability": 2}, "probability"),
        ({"stage": "rcpt", "reply": "451 x", "scope": "planet"}, "scope"),
    ],
)
def test_bad_faults_raise_value_error(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Fault(**kwargs)  # type: ignore[arg-type]
