"""pymta's test helpers on mtakit.

- :class:`SMTPTestHelper`, :class:`DebuggingMTA` and :class:`MTAThread`
  run a real server (sockets) in a thread; :class:`BlackholeDeliverer`
  keeps what it receives.
- :class:`CommandParserHelper` drives one session in memory, with no
  sockets and no threads: mtakit's sans-IO engine, hooks called on the
  calling thread.
"""

from __future__ import annotations

import queue
import threading
import warnings
from collections.abc import Sequence
from unittest import TestCase

from pymta.api import IAuthenticator, IMessageDeliverer, IMTAPolicy
from pymta.compat import b64encode
from pymta.model import Message, Peer
from pymta.mta import PythonMTA
from pymta.session import SMTPSession

__all__ = [
    "BlackholeDeliverer",
    "CommandParserHelper",
    "DebuggingMTA",
    "DummyAuthenticator",
    "MTAThread",
    "MockChannel",
    "MockCommandParser",
    "SMTPTestCase",
    "SMTPTestHelper",
]

#: A reply as the mock parser records it: the text, or the tuple of lines.
RecordedReply = tuple[int, "str | tuple[str, ...]"]


class BlackholeDeliverer(IMessageDeliverer):
    """Keeps every message in the class attribute ``received_messages``,
    a ``queue.Queue`` that each new instance replaces (as pymta's did: one
    server at a time per process)."""

    received_messages: queue.Queue[Message] = queue.Queue()

    def __init__(self) -> None:
        type(self).received_messages = queue.Queue()

    def new_message_accepted(self, msg: Message) -> None:
        type(self).received_messages.put(msg)


class DummyAuthenticator(IAuthenticator):
    """Accepts a login whose password equals the user name."""

    def authenticate(self, username: str, password: str, peer: Peer) -> bool:
        return username == password


class DebuggingMTA(PythonMTA):
    """A ``PythonMTA`` for tests. ``queue`` is kept for old code; the
    messages go to the deliverer."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.queue: queue.Queue[Message] = queue.Queue()

    def serve_forever(self, use_multiprocessing: bool = False) -> None:
        super().serve_forever(use_multiprocessing=False)


class MTAThread(threading.Thread):
    """Runs ``server.serve_forever()`` in a daemon thread until
    :meth:`stop`."""

    def __init__(self, server: PythonMTA) -> None:
        super().__init__(name="pymta-MTAThread", daemon=True)
        self.server = server
        #: What ended ``serve_forever`` early, if anything (the server's
        #: ``wait_until_ready`` raises it too).
        self.error: Exception | None = None

    def run(self) -> None:
        try:
            self.server.serve_forever()
        except Exception as error:
            self.error = error

    def stop(self, timeout_seconds: float = 5.0) -> None:
        """Stops the server and waits up to ``timeout_seconds`` for the
        thread; prints a warning if it is still alive."""
        self.server.shutdown_server()
        self.join(timeout=timeout_seconds)
        if self.is_alive():
            print("WARNING: Thread still alive. Timeout while waiting for termination!")


class SMTPTestHelper:
    """A real server in a thread for a test: :meth:`start_mta` returns
    ``(hostname, port)``. It listens on a free port (``listen_port`` is 0
    until it starts), so tests can run in parallel."""

    def __init__(
        self,
        policy_class: type[IMTAPolicy] | None = IMTAPolicy,
        authenticator_class: type[IAuthenticator] | None = None,
    ) -> None:
        self.hostname = "localhost"
        self.listen_port = 0
        self.deliverer = BlackholeDeliverer
        self.mta = DebuggingMTA(
            self.hostname,
            0,
            deliverer_class=self.deliverer,
            policy_class=policy_class,
            authenticator_class=authenticator_class,
        )
        self.mta_thread: MTAThread | None = None

    def start_mta(self, wait_until_ready: bool = True) -> tuple[str, int]:
        """Starts the server in a thread (restarting it if it runs) and
        waits until it listens, whatever ``wait_until_ready`` says: the
        port is known only then."""
        if self.mta_thread is not None:
            self.stop_mta()
        self.mta_thread = MTAThread(self.mta)
        self.mta_thread.start()
        if not self.mta.wait_until_ready(10):
            raise AssertionError(f"MTA not listening on {self.hostname} after 10 s")
        self.listen_port = self.mta.port
        return (self.hostname, self.listen_port)

    def stop_mta(self) -> None:
        """Stops the server thread."""
        if self.mta_thread is not None:
            self.mta_thread.stop()
            self.mta_thread = None

    def get_received_messages(self) -> queue.Queue[Message]:
        """The queue the deliverer fills."""
        return self.deliverer.received_messages


class SMTPTestCase(TestCase):
    """Deprecated (as in pymta 0.8): a ``TestCase`` with a running server;
    use :class:`SMTPTestHelper`."""

    def setUp(self) -> None:
        warnings.warn(
            "SMTPTestCase is deprecated, use SMTPTestHelper instead", DeprecationWarning, stacklevel=2
        )
        super().setUp()
        self._helper = SMTPTestHelper()
        self._helper.start_mta()

    @property
    def hostname(self) -> str:
        return self._helper.hostname

    @property
    def listen_port(self) -> int:
        return self._helper.listen_port

    def tearDown(self) -> None:
        self._helper.stop_mta()
        super().tearDown()

    def get_received_messages(self) -> queue.Queue[Message]:
        return self._helper.get_received_messages()


class MockCommandParser:
    """Records what a session says: ``replies`` as ``(code, text)``, with
    the tuple of lines as text for a multi-line reply, and ``open``."""

    primary_hostname = "localhost"

    def __init__(self) -> None:
        self.replies: list[RecordedReply] = []
        self.messages: list[Message] = []
        self.open = True

    def push(self, code: int, text: str) -> None:
        assert self.open, f"reply {code} {text!r} after the connection closed"
        self.replies.append((code, text))

    def multiline_push(self, code: int, lines: Sequence[str]) -> None:
        assert self.open, f"reply {code} {lines!r} after the connection closed"
        self.replies.append((code, tuple(lines)))

    def close_when_done(self) -> None:
        assert self.open, "closed twice"
        self.open = False

    def set_maximum_message_size(self, max_size: int | None) -> None:
        """Kept for pymta's interface; mtakit enforces sizes itself."""

    def new_message_received(self, msg: Message) -> None:
        self.messages.append(msg)

    def switch_to_auth_login_mode(self) -> None:
        """Kept for pymta's interface; the session tracks its modes."""

    def switch_to_command_mode(self) -> None:
        """Kept for pymta's interface; the session tracks its modes."""

    def switch_to_data_mode(self) -> None:
        """Kept for pymta's interface; the session tracks its modes."""


class MockChannel:
    """A channel that records what is written to it."""

    def __init__(self) -> None:
        self.replies: list[str] = []

    def write(self, data: str) -> None:
        self.replies.append(data)

    def close(self) -> None:
        """Does nothing."""


class CommandParserHelper:
    """One in-memory session from ``127.0.0.1:4567`` to ``localhost``,
    for tests that step through a dialogue: :meth:`send` checks that each
    command got exactly one reply and its first digit."""

    def __init__(
        self, policy: IMTAPolicy | None = None, authenticator: IAuthenticator | None = None
    ) -> None:
        self.command_parser = MockCommandParser()
        self.deliverer = BlackholeDeliverer()
        self.session = self.new_session(policy=policy, authenticator=authenticator)

    def new_session(
        self, policy: IMTAPolicy | None = None, authenticator: IAuthenticator | None = None
    ) -> SMTPSession:
        """A new session on this helper's parser and deliverer, connected."""
        session = SMTPSession(self.command_parser, self.deliverer, policy, authenticator)
        session.new_connection("127.0.0.1", 4567)
        return session

    def last_reply(self) -> RecordedReply:
        return self.command_parser.replies[-1]

    def last_server_message(self) -> str | tuple[str, ...]:
        return self.last_reply()[1]

    def check_last_code(self, expected_code: int) -> str | tuple[str, ...]:
        code, text = self.last_reply()
        assert code == expected_code, f"{code} {text!r}, expected {expected_code}"
        return text

    def check_reply_code(
        self, code: int, reply_text: object, expected_first_digit: int | None
    ) -> None:
        if expected_first_digit is not None:
            assert code // 100 == expected_first_digit, f"{code} {reply_text!r}"

    def send(
        self, command: str, data: str | None = None, expected_first_digit: int | str = 2
    ) -> RecordedReply:
        """Sends one command; asserts exactly one reply whose first digit
        is ``expected_first_digit``, and returns it."""
        before = len(self.command_parser.replies)
        self.session.handle_input(command, data)
        got = self.command_parser.replies[before:]
        assert len(got) == 1, f"expected one reply to {command!r} {data!r}, got {got!r}"
        code, text = got[0]
        self.check_reply_code(code, text, int(expected_first_digit))
        return (code, text)

    def send_valid(self, command: str, data: str | None = None) -> RecordedReply:
        return self.send(command, data, expected_first_digit=2)

    def send_invalid(self, command: str, data: str | None = None) -> RecordedReply:
        return self.send(command, data, expected_first_digit=5)

    def helo(self) -> None:
        self.send_valid("helo", "fnord")

    def ehlo(self) -> None:
        self.send_valid("ehlo", "fnord")

    def send_auth_login(
        self,
        username_b64: str | None = None,
        password_b64: str | None = None,
        expect_username_error: bool = False,
        reduce_roundtrips: bool = True,
    ) -> RecordedReply:
        """AUTH LOGIN with the username in the command
        (``reduce_roundtrips``) or after the prompt, then the password;
        returns the last reply."""
        before = len(self.command_parser.replies)
        expected = 501 if expect_username_error else 334
        if reduce_roundtrips:
            self.send("AUTH LOGIN", username_b64, expected_first_digit=expected // 100)
            sent = 1
        else:
            self.send("AUTH LOGIN", expected_first_digit=3)
            code, _ = self._handle_auth_credentials(username_b64 or "")
            assert code == expected, code
            sent = 2
        if expect_username_error:
            assert len(self.command_parser.replies) == before + sent
            return self.last_reply()
        assert password_b64 is not None
        assert self.check_last_code(334) == b64encode("Password:")
        self._handle_auth_credentials(password_b64)
        assert len(self.command_parser.replies) == before + sent + 1
        return self.last_reply()

    def _handle_auth_credentials(self, b64_data: str) -> RecordedReply:
        self.session.handle_auth_credentials(b64_data)
        return self.last_reply()

    def close_connection(self) -> None:
        """QUIT: asserts ``221 localhost closing connection`` and the close."""
        self.send("quit", expected_first_digit=2)
        assert self.last_reply() == (221, "localhost closing connection"), self.last_reply()
        assert not self.command_parser.open
