"""pymta.test_util.CommandParserHelper and pymta.SMTPSession: one session
in memory, on mtakit's sans-IO engine."""

from __future__ import annotations

import pytest

from pymta import IMTAPolicy, Message, Peer, PolicyDecision
from pymta.compat import b64encode
from pymta.test_util import CommandParserHelper, DummyAuthenticator


def send_mail(cp: CommandParserHelper, text: str, sender: str = "foo@example.com") -> None:
    cp.send("MAIL FROM", sender)
    cp.send("RCPT TO", "bar@example.com")
    cp.send("DATA", expected_first_digit=3)
    cp.send("MSGDATA", text)


def delivered(cp: CommandParserHelper) -> list[Message]:
    queue = cp.deliverer.received_messages
    return [queue.get_nowait() for _ in range(queue.qsize())]


def test_greeting_and_quit() -> None:
    cp = CommandParserHelper()
    assert cp.command_parser.replies == [(220, "localhost Hello 127.0.0.1")]
    cp.close_connection()
    assert cp.command_parser.replies[-1] == (221, "localhost closing connection")


def test_message_fields_and_text_round_trip() -> None:
    cp = CommandParserHelper()
    cp.send("HELO", "client.example.com")
    text = "Subject: dots\n\n.leading dot\n..two dots\nlast line\n"
    send_mail(cp, text)
    assert cp.last_reply() == (250, "OK")
    [msg] = delivered(cp)
    assert msg.peer == Peer("127.0.0.1", 4567)
    assert (msg.smtp_helo, msg.smtp_from, msg.smtp_to) == (
        "client.example.com",
        "foo@example.com",
        ["bar@example.com"],
    )
    assert msg.msg_data == text
    assert msg.username is None


def test_empty_message_and_eight_bit_text() -> None:
    cp = CommandParserHelper()
    cp.helo()
    send_mail(cp, "")
    send_mail(cp, "Subject: Grüße\n\nZoë\n")
    empty, eight_bit = delivered(cp)
    assert empty.msg_data == ""
    assert eight_bit.msg_data == "Subject: Grüße\n\nZoë\n"


def test_null_sender_is_accepted() -> None:
    # pymta rejected MAIL FROM:<> with 501 (its bug 9): bounces were lost.
    cp = CommandParserHelper()
    cp.helo()
    send_mail(cp, "x\n", sender="<>")
    assert delivered(cp)[0].smtp_from == ""


@pytest.mark.parametrize(
    ("result", "reply"),
    [
        (False, (550, "Administrative Prohibition")),
        ((False, (553, "Go away")), (553, "Go away")),
        ((False, (552, ["Go away", "Evil IP"])), (552, ("Go away", "Evil IP"))),
        (PolicyDecision(False, (554, "No")), (554, "No")),
    ],
)
def test_policy_results_at_helo(result: object, reply: tuple[int, object]) -> None:
    class Policy(IMTAPolicy):
        def accept_helo(self, helo_string: str, message: Message) -> object:  # type: ignore[override]
            return result

    cp = CommandParserHelper(policy=Policy())
    assert cp.send("HELO", "foo", expected_first_digit=5) == reply
    assert cp.command_parser.open


def test_default_replies_of_rcpt_and_message_rejections() -> None:
    class Policy(IMTAPolicy):
        def accept_rcpt_to(self, new_recipient: str, message: Message) -> bool:
            return new_recipient != "evil@example.com"

        def accept_msgdata(self, msgdata: str, message: Message) -> bool:
            return "spam" not in msgdata

    cp = CommandParserHelper(policy=Policy())
    cp.helo()
    cp.send("MAIL FROM", "foo@example.com")
    assert cp.send_invalid("RCPT TO", "evil@example.com") == (550, "relay not permitted")
    cp.send("RCPT TO", "good@example.com")
    cp.send("DATA", expected_first_digit=3)
    assert cp.send_invalid("MSGDATA", "spam\n") == (550, "Message content is not acceptable")
    # pymta stayed in its data state after a refused message (bug 5).
    send_mail(cp, "fine\n")
    assert len(delivered(cp)) == 1


def test_close_before_and_after_the_reply() -> None:
    class Policy(IMTAPolicy):
        def accept_helo(self, helo_string: str, message: Message) -> PolicyDecision:
            decision = PolicyDecision(helo_string == "ok")
            decision._close_connection_before_response = helo_string == "silent"
            decision._close_connection_after_response = True
            return decision

    cp = CommandParserHelper(policy=Policy())
    cp.session.handle_input("HELO", "silent")
    assert cp.command_parser.replies == [(220, "localhost Hello 127.0.0.1")]
    assert not cp.command_parser.open

    cp = CommandParserHelper(policy=Policy())
    assert cp.send("HELO", "ok") == (250, "localhost")
    assert not cp.command_parser.open

    cp = CommandParserHelper(policy=Policy())
    assert cp.send_invalid("HELO", "no") == (550, "Administrative Prohibition")
    assert not cp.command_parser.open


def test_accepting_with_a_custom_greeting_still_greets() -> None:
    # pymta never left its `new` state after a custom positive reply (bug 6).
    class Policy(IMTAPolicy):
        def accept_new_connection(self, peer: Peer) -> tuple[bool, tuple[int, str]]:
            return (True, (220, "welcome " + peer.remote_ip))

    cp = CommandParserHelper(policy=Policy())
    assert cp.command_parser.replies == [(220, "welcome 127.0.0.1")]
    cp.send("HELO", "foo")


def test_size_is_advertised_and_checked() -> None:
    class Small(IMTAPolicy):
        def max_message_size(self, peer: Peer) -> int:
            return 100

    cp = CommandParserHelper(policy=Small())
    code, lines = cp.send("EHLO", "foo")
    assert lines == ("localhost", "SIZE 100", "AUTH PLAIN LOGIN", "HELP")
    assert cp.send_invalid("MAIL FROM", "<a@example.com> SIZE=101")[0] == 552
    cp.send("MAIL FROM", "<a@example.com> SIZE=100")
    cp.send("RCPT TO", "b@example.com")
    cp.send("DATA", expected_first_digit=3)
    too_big = cp.send_invalid("MSGDATA", "x" * 101)
    assert too_big == (552, "message exceeds fixed maximum message size")


def test_auth_plain_sets_username_and_a_failure_can_be_retried() -> None:
    cp = CommandParserHelper(authenticator=DummyAuthenticator())
    cp.ehlo()
    assert cp.send_invalid("AUTH PLAIN", b64encode("\0foo\0bar")) == (535, "Bad username or password")
    # pymta counted a failed AUTH as authenticated (bug 7); a retry works.
    assert cp.send("AUTH PLAIN", b64encode("\0foo\0foo")) == (235, "Authentication successful")
    send_mail(cp, "hi\n")
    cp.send("RSET")
    send_mail(cp, "again\n")
    first, second = delivered(cp)
    # RSET no longer drops the login (RFC 4954 §4; pymta bug 7).
    assert first.username == second.username == "foo"


def test_auth_without_an_authenticator() -> None:
    cp = CommandParserHelper()
    cp.ehlo()
    assert cp.send_invalid("AUTH PLAIN", b64encode("\0foo\0foo")) == (535, "AUTH not available")


def test_auth_login_in_three_steps_and_credentials_outside_an_exchange() -> None:
    cp = CommandParserHelper(authenticator=DummyAuthenticator())
    cp.ehlo()
    reply = cp.send_auth_login(b64encode("foo"), b64encode("foo"), reduce_roundtrips=False)
    assert reply == (235, "Authentication successful")
    assert cp._handle_auth_credentials("foo") == (501, "Garbled data sent")
    assert cp._handle_auth_credentials(b64encode("foo"))[0] == 503


def test_a_hook_that_raises_is_raised_and_the_client_gets_451() -> None:
    class Broken(IMTAPolicy):
        def accept_from(self, sender: str, message: Message) -> bool:
            raise RuntimeError("policy bug")

    cp = CommandParserHelper(policy=Broken())
    cp.helo()
    with pytest.raises(RuntimeError, match="policy bug"):
        cp.session.handle_input("MAIL FROM", "foo@example.com")
    assert cp.last_reply()[0] == 451
    cp.send("NOOP")  # the session goes on


def test_an_unknown_policy_response_raises_value_error() -> None:
    class Odd(IMTAPolicy):
        def accept_helo(self, helo_string: str, message: Message) -> str:  # type: ignore[override]
            return "yes"

    cp = CommandParserHelper(policy=Odd())
    with pytest.raises(ValueError, match="Unknown policy response"):
        cp.session.handle_input("HELO", "foo")


def test_bad_input_gives_clear_errors() -> None:
    cp = CommandParserHelper()
    with pytest.raises(ValueError, match="one line"):
        cp.session.handle_input("HELO", "foo\r\nQUIT")
    code, text = cp.send_invalid("FOO bar")
    assert (code, text) == (500, 'unrecognized command "FOO"')


def test_pipelined_commands_in_one_feed_get_one_reply_each() -> None:
    # pymta read a packet as one line (bug 1); the engine does not.
    cp = CommandParserHelper()
    replies = cp.session.harness.feed(
        b"HELO a\r\nMAIL FROM:<a@example.com>\r\nRCPT TO:<b@example.com>\r\n"
    )
    assert [reply.code for reply in replies] == [250, 250, 250]
