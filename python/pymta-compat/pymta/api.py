"""pymta's public interfaces: ``IMTAPolicy``, ``IAuthenticator``,
``IMessageDeliverer``, ``PolicyDecision`` and ``PyMTAException``.

Subclass them exactly as with pymta 0.8; ``pymta.PythonMTA`` and
``pymta.test_util`` run them on mtakit's engine.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Union

if TYPE_CHECKING:
    from pymta.model import Message, Peer

    #: A custom reply: ``(code, text)`` or ``(code, [line, ...])``.
    CustomReply = tuple[int, Union[str, Sequence[str]]]
    #: What a policy method may return.
    PolicyResult = Union[None, bool, "PolicyDecision", tuple[object, CustomReply]]

__all__ = [
    "IAuthenticator",
    "IMTAPolicy",
    "IMessageDeliverer",
    "PolicyDecision",
    "PyMTAException",
]


class PyMTAException(Exception):
    """The base of pymta's exceptions."""


class IAuthenticator:
    """Checks the credentials of AUTH PLAIN and AUTH LOGIN."""

    def authenticate(self, username: str, password: str, peer: Peer) -> bool:
        """True if ``username`` may log in with ``password``."""
        raise NotImplementedError


class IMessageDeliverer:
    """Receives every accepted message, before the client gets its
    ``250``."""

    def new_message_accepted(self, msg: Message) -> None:
        """Stores or forwards ``msg``. If this raises, the client gets
        ``451`` and keeps the message (pymta's worker died instead)."""
        raise NotImplementedError


class PolicyDecision:
    """A policy's answer with more than accept or reject: a custom reply
    ``(code, text_or_lines)``, and closing the connection before or after
    the reply (set ``_close_connection_before_response`` or
    ``_close_connection_after_response``, as pymta's users do)."""

    def __init__(self, decision: bool | None = True, reply: CustomReply | None = None) -> None:
        self._decision = decision
        self._custom_reply = reply
        self._close_connection_before_response = False
        self._close_connection_after_response = False

    def close_connection_before_response(self) -> bool:
        """True if the connection closes without any reply."""
        return self._close_connection_before_response

    def close_connection_after_response(self) -> bool:
        """True if the connection closes after the reply."""
        return self._close_connection_after_response

    def is_command_acceptable(self) -> bool | None:
        """The decision: ``True`` or ``None`` accept."""
        return self._decision

    def use_custom_reply(self) -> bool:
        """True if a custom reply was given."""
        return self._custom_reply is not None

    def get_custom_reply(self) -> CustomReply:
        """The custom reply; ``ValueError`` if there is none."""
        if self._custom_reply is None:
            raise ValueError("No custom reply set.")
        return self._custom_reply


class IMTAPolicy:
    """The permissive policy: every method accepts. Override what you
    need; each ``accept_*`` method returns ``True``/``None`` (accept),
    ``False`` (reject with the default reply), a :class:`PolicyDecision`,
    or ``(decision, (code, text_or_lines))``."""

    def accept_new_connection(self, peer: Peer) -> PolicyResult:
        """A client connected, before the greeting (``554`` on reject)."""
        return True

    def max_message_size(self, peer: Peer) -> int | None:
        """The largest message in octets, advertised as ``SIZE`` and
        checked; ``None`` for no limit of the policy's own."""
        return None

    def auth_methods(self, peer: Peer) -> Sequence[str]:
        """The AUTH mechanisms to advertise."""
        return ("PLAIN", "LOGIN")

    def ehlo_lines(self, peer: Peer) -> Iterable[str]:
        """The EHLO keyword lines between the host name and ``HELP``."""
        lines: list[str] = []
        size = self.max_message_size(peer)
        if size is not None:
            lines.append(f"SIZE {size}")
        methods = self.auth_methods(peer)
        if methods:
            lines.append("AUTH " + " ".join(methods))
        return tuple(lines)

    def accept_helo(self, helo_string: str, message: Message) -> PolicyResult:
        """HELO with this name."""
        return True

    def accept_ehlo(self, ehlo_string: str, message: Message) -> PolicyResult:
        """EHLO with this name."""
        return True

    def accept_auth_plain(self, username: str, password: str, message: Message) -> PolicyResult:
        """AUTH PLAIN, before the authenticator checks the password."""
        return "PLAIN" in self.auth_methods(message.peer)

    def accept_auth_login(self, username: str | None, message: Message) -> PolicyResult:
        """AUTH LOGIN, at the command (``username`` is ``None``: mtakit
        does not show the policy the initial response)."""
        return "LOGIN" in self.auth_methods(message.peer)

    def accept_from(self, sender: str, message: Message) -> PolicyResult:
        """MAIL FROM: the sender without angle brackets."""
        return True

    def accept_rcpt_to(self, new_recipient: str, message: Message) -> PolicyResult:
        """Each RCPT TO (``550 relay not permitted`` on reject)."""
        return True

    def accept_data(self, message: Message) -> PolicyResult:
        """DATA, before the ``354``."""
        return True

    def accept_msgdata(self, msgdata: str, message: Message) -> PolicyResult:
        """The whole message text, before delivery (``550 Message content
        is not acceptable`` on reject)."""
        return True
