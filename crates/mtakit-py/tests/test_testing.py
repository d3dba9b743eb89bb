"""TestServer over real sockets, with the standard library's smtplib."""

from __future__ import annotations

import smtplib
import socket
import ssl
from email.message import EmailMessage

import pytest

from mtakit.testing import TestServer


def send(server: TestServer, sender: str, recipients: list[str], data: bytes | str) -> None:
    with smtplib.SMTP(server.host, server.port, timeout=10) as client:
        client.sendmail(sender, recipients, data)


def test_a_message_arrives_with_its_envelope_session_and_exact_content() -> None:
    data = b"Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe_aus_K=C3=B6ln?=\r\nFrom: App <app@example.com>\r\n\r\nHello\r\n"
    with TestServer() as smtp:
        send(smtp, "app@example.com", ["user@example.com", "Other@Example.org"], data)
        [msg] = smtp.wait_for_messages(1)
        assert msg.mail_from == "app@example.com"
        assert msg.rcpt_to == ["user@example.com", "Other@Example.org"]
        assert msg.data == data
        assert msg.subject == "Grüße aus Köln"
        assert isinstance(msg.email, EmailMessage)
        assert msg.email["From"].addresses[0].display_name == "App"
        assert msg.email is msg.email, "parsed once, then kept"
        assert ("Subject", "Grüße aus Köln") in msg.headers
        assert msg.peer.host == "127.0.0.1" and msg.peer.port > 0
        assert tuple(msg.peer) == (msg.peer.host, msg.peer.port)
        assert msg.helo is not None
        assert msg.mail_params["SIZE"] == str(len(data))
        assert msg.tls is None and msg.auth is None
        assert msg.findings == []
        assert msg.id in repr(msg)


def test_smtputf8_and_body_parameters_are_reported() -> None:
    with TestServer() as smtp, smtplib.SMTP(smtp.host, smtp.port) as client:
        client.ehlo()
        client.sendmail(
            "app@example.com",
            ["user@example.com"],
            b"Subject: x\r\n\r\n\xc3\xa9\r\n",
            mail_options=["BODY=8BITMIME", "SMTPUTF8"],
        )
        [msg] = smtp.wait_for_messages(1)
        assert msg.mail_params["BODY"] == "8BITMIME"
        assert "SMTPUTF8" in msg.mail_params and msg.mail_params["SMTPUTF8"] is None


def test_the_null_sender_is_an_empty_string() -> None:
    with TestServer() as smtp:
        send(smtp, "", ["user@example.com"], "Subject: bounce\r\n\r\nx\r\n")
        assert smtp.wait_for_messages(1)[0].mail_from == ""


def test_waiting_too_long_raises_timeout_error_naming_what_arrived() -> None:
    with TestServer() as smtp:
        send(smtp, "a@example.com", ["b@example.com"], "Subject: only one\r\n\r\nx\r\n")
        with pytest.raises(TimeoutError) as caught:
            smtp.wait_for_messages(2, timeout=0.3)
        text = str(caught.value)
        assert "expected at least 2 message(s)" in text
        assert "1 arrived" in text and "only one" in text


def test_the_default_timeout_is_the_servers() -> None:
    with TestServer(timeout=0.2) as smtp, pytest.raises(TimeoutError):
        smtp.wait_for_messages(1)


def test_wait_for_message_returns_the_first_match() -> None:
    with TestServer() as smtp:
        send(smtp, "a@example.com", ["x@example.com"], "Subject: first\r\n\r\n1\r\n")
        send(smtp, "a@example.com", ["y@example.com"], "Subject: second\r\n\r\n2\r\n")
        send(smtp, "b@example.com", ["y@example.com"], "Subject: third\r\n\r\n3\r\n")
        assert smtp.wait_for_message(to="Y@example.com").subject == "second"
        assert smtp.wait_for_message(subject="third").mail_from == "b@example.com"
        assert smtp.wait_for_message(mail_from="a@example.com", to="x@example.com").subject == "first"
        assert smtp.wait_for_message(where=lambda m: b"3" in m.data).subject == "third"
        with pytest.raises(TimeoutError, match="to='z@example.com'"):
            smtp.wait_for_message(to="z@example.com", timeout=0.2)


def test_clear_forgets_messages_and_transcripts() -> None:
    with TestServer() as smtp:
        send(smtp, "a@example.com", ["b@example.com"], "Subject: x\r\n\r\nx\r\n")
        smtp.wait_for_messages(1)
        smtp.clear()
        assert smtp.messages == []
        assert smtp.transcripts() == []
        send(smtp, "a@example.com", ["b@example.com"], "Subject: y\r\n\r\ny\r\n")
        assert [m.subject for m in smtp.wait_for_messages(1)] == ["y"]


def test_transcripts_hold_the_dialogue() -> None:
    with TestServer() as smtp:
        with smtplib.SMTP(smtp.host, smtp.port) as client:
            client.ehlo("client.example")
            client.noop()
            client.sendmail("a@example.com", ["b@example.com"], "Subject: t\r\n\r\nt\r\n")
        [msg] = smtp.wait_for_messages(1)
        [t] = smtp.wait_for_transcripts(1)
        # As the client sent them: smtplib writes lower-case verbs.
        assert t.commands[:2] == ["ehlo client.example", "noop"]
        assert t.commands[-1].lower() == "quit"
        assert t.messages == [msg.id]
        assert t.replies[0].startswith("220 ")
        kinds = [kind for _, kind, _ in t.entries]
        assert kinds[0] == "reply" and "command" in kinds and "message" in kinds
        with pytest.raises(TimeoutError, match="2 finished session"):
            smtp.wait_for_transcripts(2, timeout=0.2)


def test_max_message_size_is_advertised_and_enforced() -> None:
    with TestServer(max_message_size=1000) as smtp, smtplib.SMTP(smtp.host, smtp.port) as client:
        client.ehlo()
        assert client.esmtp_features["size"] == "1000"
        with pytest.raises(smtplib.SMTPSenderRefused) as refused:
            client.sendmail("a@example.com", ["b@example.com"], "Subject: big\r\n\r\n" + "x" * 2000)
        assert refused.value.smtp_code == 552
        assert smtp.messages == []


def test_max_recipients_gives_452_past_the_limit() -> None:
    with TestServer(max_recipients=2) as smtp, smtplib.SMTP(smtp.host, smtp.port) as client:
        refused = client.sendmail(
            "a@example.com", ["1@example.com", "2@example.com", "3@example.com"], "Subject: r\r\n\r\nr\r\n"
        )
        assert refused == {"3@example.com": (452, b"4.5.3 Too many recipients")}
        assert smtp.wait_for_messages(1)[0].rcpt_to == ["1@example.com", "2@example.com"]


def test_disabled_extensions_are_not_advertised() -> None:
    with TestServer(disable=["pipelining", "CHUNKING"]) as smtp, smtplib.SMTP(smtp.host, smtp.port) as client:
        client.ehlo()
        assert "pipelining" not in client.esmtp_features
        assert "chunking" not in client.esmtp_features
        assert "8bitmime" in client.esmtp_features


def test_bad_options_raise_value_error() -> None:
    with pytest.raises(ValueError, match="tls must be"):
        TestServer(tls="sometimes")
    with pytest.raises(ValueError, match="cannot disable 'frobnicate'"):
        TestServer(disable=["frobnicate"])
    with pytest.raises(ValueError, match="line_endings must be"):
        TestServer(line_endings="crlf")
    with pytest.raises(ValueError, match="require_auth=True needs users"):
        TestServer(require_auth=True)
    with pytest.raises(ValueError, match="max_message_size must be positive"):
        TestServer(max_message_size=0)


def test_a_port_in_use_raises_os_error() -> None:
    with TestServer() as first, pytest.raises(OSError, match="cannot listen"):
        TestServer(port=first.port)


def test_bare_lf_is_refused_by_default_and_recorded_on_request() -> None:
    data = b"Subject: lf\r\n\r\nbare\nline\r\n"
    with TestServer() as smtp:
        with pytest.raises(smtplib.SMTPDataError) as refused:
            with smtplib.SMTP(smtp.host, smtp.port) as client:
                client.sendmail("a@example.com", ["b@example.com"], data)
        assert refused.value.smtp_code == 550
    with TestServer(line_endings="record") as smtp:
        send(smtp, "a@example.com", ["b@example.com"], data)
        [msg] = smtp.wait_for_messages(1)
        assert msg.data == data
        assert any("LF" in f for f in msg.findings), msg.findings


def test_users_and_require_auth() -> None:
    with TestServer(users={"alice": "secret"}, require_auth=True) as smtp:
        with smtplib.SMTP(smtp.host, smtp.port) as client:
            with pytest.raises(smtplib.SMTPSenderRefused) as refused:
                client.sendmail("a@example.com", ["b@example.com"], "Subject: no\r\n\r\nx\r\n")
            assert refused.value.smtp_code == 530
        with smtplib.SMTP(smtp.host, smtp.port) as client:
            with pytest.raises(smtplib.SMTPAuthenticationError) as denied:
                client.login("alice", "wrong")
            assert denied.value.smtp_code == 535
        with smtplib.SMTP(smtp.host, smtp.port) as client:
            client.login("alice", "secret")
            client.sendmail("a@example.com", ["b@example.com"], "Subject: yes\r\n\r\nx\r\n")
        [msg] = smtp.wait_for_messages(1)
        assert msg.auth is not None
        assert (msg.auth.username, msg.auth.mechanism) == ("alice", "PLAIN")


def test_starttls_with_the_test_ca() -> None:
    with TestServer(tls="starttls") as smtp:
        assert smtp.tls is not None and smtp.tls.mode == "starttls"
        context = ssl.create_default_context(cafile=smtp.tls.ca_path)
        with smtplib.SMTP("localhost", smtp.port) as client:
            client.starttls(context=context)
            client.sendmail("a@example.com", ["b@example.com"], "Subject: tls\r\n\r\nx\r\n")
        [msg] = smtp.wait_for_messages(1)
        assert msg.tls is not None
        assert msg.tls.version == "TLSv1.3"
        assert msg.tls.cipher
        ca_path = smtp.tls.ca_path
    import os

    assert not os.path.exists(ca_path), "the CA file is removed on close"


def test_implicit_tls_with_the_test_ca() -> None:
    with TestServer(tls="implicit") as smtp:
        assert smtp.tls is not None
        context = ssl.create_default_context(cafile=smtp.tls.ca_path)
        with smtplib.SMTP_SSL("localhost", smtp.port, context=context) as client:
            client.sendmail("a@example.com", ["b@example.com"], "Subject: tls\r\n\r\nx\r\n")
        [msg] = smtp.wait_for_messages(1)
        assert msg.tls is not None and msg.tls.version.startswith("TLSv1.")


def test_a_client_that_does_not_trust_the_ca_fails_the_handshake() -> None:
    with TestServer(tls="starttls") as smtp, smtplib.SMTP("localhost", smtp.port) as client:
        with pytest.raises(ssl.SSLCertVerificationError):
            client.starttls(context=ssl.create_default_context())


def test_close_stops_listening_and_is_idempotent() -> None:
    smtp = TestServer()
    port = smtp.port
    assert not smtp.closed
    smtp.close()
    smtp.close()
    assert smtp.closed
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=5)


def test_messages_beyond_max_messages_push_out_the_oldest() -> None:
    with TestServer(max_messages=2) as smtp:
        for i in range(3):
            send(smtp, "a@example.com", ["b@example.com"], f"Subject: {i}\r\n\r\nx\r\n")
        smtp.wait_for_message(subject="2")
        assert [m.subject for m in smtp.messages] == ["1", "2"]
