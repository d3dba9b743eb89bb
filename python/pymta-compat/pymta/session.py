"""``SMTPSession``: pymta's transport-independent session, here one
mtakit session in memory (``mtakit._mtakit._Harness``), no sockets.

It talks to its command parser as pymta's did: ``push(code, text)``,
``multiline_push(code, lines)`` and ``close_when_done()``, and takes
``primary_hostname`` from it. Commands come in as pymta's parser handed
them over: ``handle_input("MAIL FROM", "foo@example.com")``, and
``handle_input("MSGDATA", text)`` for the message text.
"""

from __future__ import annotations

import binascii
from collections.abc import Callable, Sequence
from typing import Protocol

from mtakit import Reply
from mtakit._mtakit import _Harness

from pymta.api import IAuthenticator, IMessageDeliverer, IMTAPolicy
from pymta.compat import b64decode
from pymta._adapter import DISABLED_EXTENSIONS, Hooks

__all__ = ["CommandParser", "SMTPSession", "command_line", "message_wire"]


class CommandParser(Protocol):
    """What a session needs from its command parser."""

    primary_hostname: str

    def push(self, code: int, text: str) -> None: ...
    def multiline_push(self, code: int, lines: Sequence[str]) -> None: ...
    def close_when_done(self) -> None: ...


def _check_line(text: str) -> None:
    if "\r" in text or "\n" in text:
        raise ValueError(f"a command must be one line, not {text!r}")


def command_line(command: str, data: str | None = None) -> bytes:
    """The line pymta's parser read as ``(command, data)``. MAIL FROM and
    RCPT TO get ``:`` and their address angle brackets (pymta accepted a
    bare address; RFC 5321 and mtakit do not)."""
    _check_line(command)
    if data is None:
        return f"{command}\r\n".encode()
    _check_line(data)
    verb = " ".join(command.split())
    if verb.upper() in ("MAIL FROM", "RCPT TO"):
        parts = data.split(None, 1)
        if not parts:
            return f"{verb}:\r\n".encode()
        address = parts[0] if parts[0].startswith("<") else f"<{parts[0]}>"
        params = f" {parts[1].strip()}" if len(parts) > 1 else ""
        return f"{verb}:{address}{params}\r\n".encode()
    return f"{command} {data}\r\n".encode()


def message_wire(text: str) -> bytes:
    """Message text as pymta's ``MSGDATA`` took it (``\\n`` line endings,
    the final line break before the dot left out) in its wire form:
    CRLF, dot-stuffed, ending in ``CRLF . CRLF``."""
    lines = text.replace("\r\n", "\n").split("\n")
    stuffed = ["." + line if line.startswith(".") else line for line in lines]
    return ("\r\n".join(stuffed) + "\r\n.\r\n").encode("utf-8", "surrogateescape")


class SMTPSession:
    """One SMTP session in memory, with pymta's entry points
    (``new_connection``, ``handle_input``, ``handle_auth_credentials``) and
    mtakit's protocol engine behind them."""

    def __init__(
        self,
        command_parser: CommandParser,
        deliverer: IMessageDeliverer | None,
        policy: IMTAPolicy | None = None,
        authenticator: IAuthenticator | None = None,
    ) -> None:
        self._command_parser = command_parser
        self._hooks = Hooks(command_parser.primary_hostname, policy, authenticator, deliverer)
        self._harness: _Harness | None = None
        self._closed = False

    @property
    def harness(self) -> _Harness:
        """The mtakit session; ``new_connection`` makes it."""
        if self._harness is None:
            raise RuntimeError("call new_connection(remote_ip, remote_port) first")
        return self._harness

    def new_connection(self, remote_ip: str, remote_port: int) -> None:
        """A client connected: the policy decides, then the greeting (or
        ``554`` and the close)."""
        hooks = self._hooks
        self._harness = _Harness(
            policy=hooks,
            authenticator=hooks,
            deliverer=hooks,
            hostname=hooks.hostname,
            peer=(remote_ip, remote_port),
            disable=DISABLED_EXTENSIONS,
        )
        self._closed = False
        self._forward(self._harness.start)

    def handle_input(self, smtp_command: str, data: str | None = None) -> None:
        """One command as pymta's parser passed it, or ``"MSGDATA"`` with
        the message text after ``DATA``. Replies go to the parser."""
        harness = self.harness
        if smtp_command.upper() == "MSGDATA":
            wire = message_wire(data or "")
        else:
            wire = command_line(smtp_command, data)
        self._forward(lambda: harness.feed(wire))

    def handle_auth_credentials(self, input_: str) -> None:
        """A line of an AUTH LOGIN exchange (base64). Outside an exchange
        it gets what pymta gave it: ``501 Garbled data sent`` if it is not
        base64, else ``503``."""
        harness = self.harness
        replies = harness.replies
        if replies and replies[-1].code == 334 and not harness.closed:
            _check_line(input_)
            self._forward(lambda: harness.feed(f"{input_}\r\n".encode()))
            return
        try:
            b64decode(input_)
        except (binascii.Error, ValueError):
            self._command_parser.push(501, "Garbled data sent")
        else:
            self._command_parser.push(503, "No AUTH LOGIN exchange in progress")

    def _forward(self, step: Callable[[], list[Reply]]) -> None:
        """Runs ``step``, then hands every new reply and a close to the
        parser, even when a hook raised (which is raised again)."""
        harness = self.harness
        before = len(harness.replies)
        try:
            step()
        finally:
            for reply in harness.replies[before:]:
                lines = reply.lines
                if len(lines) == 1:
                    self._command_parser.push(reply.code, lines[0])
                else:
                    self._command_parser.multiline_push(reply.code, tuple(lines))
            if harness.closed and not self._closed:
                self._closed = True
                self._command_parser.close_when_done()
