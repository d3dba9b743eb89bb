"""pymta's policy, authenticator and deliverer as mtakit hooks.

:class:`Hooks` is one object that mtakit calls as its policy, its
authenticator and its deliverer; it asks the pymta objects in pymta's
terms (``accept_from(sender, message)``, ``authenticate(username,
password, peer)``, ``new_message_accepted(msg)``) and turns their answers
into mtakit verdicts. ``pymta.PythonMTA`` (sockets, ``mtakit.Server``) and
``pymta.session.SMTPSession`` (in memory) both use it, so they behave
alike.
"""

from __future__ import annotations

from collections.abc import Sequence

import mtakit
from mtakit import Reply, Session, Verdict

from pymta.api import IAuthenticator, IMessageDeliverer, IMTAPolicy, PolicyDecision
from pymta.model import Message, Peer

__all__ = ["DISABLED_EXTENSIONS", "Hooks", "message_text", "to_verdict"]

#: pymta sent no enhanced status codes; its users compare reply texts.
DISABLED_EXTENSIONS = ["enhancedstatuscodes"]

OK = Reply(250, None, "OK")
TOO_BIG = Reply(552, None, "message exceeds fixed maximum message size")


def _reply(custom: object) -> Reply:
    """pymta's ``(code, text_or_lines)`` as a reply."""
    if not isinstance(custom, (tuple, list)) or len(custom) != 2:
        raise ValueError(f"a custom reply is (code, text_or_lines), not {custom!r}")
    code, text = custom
    if isinstance(text, str):
        return Reply(int(code), None, text)
    return Reply(int(code), None, [str(line) for line in text])


def to_verdict(result: object) -> Verdict:
    """Reads a pymta policy result, by pymta's rules: ``True``/``None``
    accept and ``False`` rejects with the default reply; a
    :class:`PolicyDecision`; or ``(decision, (code, text_or_lines))``.
    Anything else raises ``ValueError('Unknown policy response')``."""
    if isinstance(result, (bool, int, type(None))) and result in (True, False, None):
        return Verdict.accept() if result in (True, None) else Verdict.reject()
    if isinstance(result, PolicyDecision):
        accept = result.is_command_acceptable() in (True, None)
        if result.close_connection_before_response():
            return Verdict.disconnect()
        reply = _reply(result.get_custom_reply()) if result.use_custom_reply() else None
        close = result.close_connection_after_response()
        return Verdict.accept(reply, close=close) if accept else Verdict.reject(reply, close=close)
    if isinstance(result, (tuple, list)) and len(result) == 2:
        decision, custom = result
        reply = _reply(custom)
        return Verdict.accept(reply) if decision in (True, None) else Verdict.reject(reply)
    raise ValueError(f"Unknown policy response: {result!r}")


def message_text(data: bytes) -> str:
    """Message content as pymta gave it: without the line break that
    belongs to the final dot, with ``\\n`` line endings; 8-bit octets that
    are not UTF-8 are kept as surrogate escapes."""
    if data.endswith(b"\r\n"):
        data = data[:-2]
    return data.replace(b"\r\n", b"\n").decode("utf-8", "surrogateescape")


def _peer(session: Session) -> Peer:
    return Peer(session.peer.host, session.peer.port)


def _username(session: Session) -> str | None:
    return session.auth.username if session.auth is not None else None


class Hooks(mtakit.Policy, mtakit.Authenticator, mtakit.Deliverer):
    """mtakit's policy, authenticator and deliverer for one set of pymta
    objects (any of which may be ``None``), replying as pymta did."""

    mechanisms: Sequence[str] = ("PLAIN", "LOGIN")

    def __init__(
        self,
        hostname: str,
        policy: IMTAPolicy | None,
        authenticator: IAuthenticator | None,
        deliverer: IMessageDeliverer | None,
    ) -> None:
        self.hostname = hostname
        self.policy = policy
        self.authenticator = authenticator
        self.deliverer = deliverer

    def _message(self, session: Session) -> Message:
        return Message(
            _peer(session),
            smtp_helo=session.helo,
            smtp_from=session.mail_from,
            smtp_to=session.rcpt_to,
            username=_username(session),
        )

    def _max_size(self, peer: Peer) -> int | None:
        return None if self.policy is None else self.policy.max_message_size(peer)

    def accept_connection(self, session: Session) -> Verdict:
        peer = _peer(session)
        if self.policy is not None:
            verdict = to_verdict(self.policy.accept_new_connection(peer))
            if not verdict.accepted or verdict.reply is not None or verdict.closes:
                return verdict
        return Verdict.accept(Reply(220, None, f"{self.hostname} Hello {peer.remote_ip}"))

    def accept_helo(self, session: Session, helo: str) -> Verdict:
        if self.policy is None:
            return Verdict.accept()
        return to_verdict(self.policy.accept_helo(helo, self._message(session)))

    def accept_ehlo(self, session: Session, helo: str) -> Verdict:
        peer = _peer(session)
        verdict = Verdict.accept()
        if self.policy is not None:
            verdict = to_verdict(self.policy.accept_ehlo(helo, self._message(session)))
            lines = list(self.policy.ehlo_lines(peer))
        else:
            lines = ["AUTH PLAIN"] if self.authenticator is not None else []
        if not verdict.accepted or verdict.reply is not None:
            return verdict
        reply = Reply(250, None, [self.hostname, *lines, "HELP"])
        return Verdict.accept(reply, close=verdict.closes)

    def accept_auth(self, session: Session, mechanism: str) -> Verdict:
        if mechanism != "LOGIN" or self.policy is None:
            return Verdict.accept()
        return to_verdict(self.policy.accept_auth_login(None, self._message(session)))

    def authenticate(
        self, session: Session, mechanism: str, username: str, password: str
    ) -> bool | str | Reply:
        peer = _peer(session)
        if mechanism == "PLAIN" and self.policy is not None:
            message = self._message(session)
            verdict = to_verdict(self.policy.accept_auth_plain(username, password, message))
            if not verdict.accepted:
                return verdict.reply or "550 Administrative Prohibition"
        if self.authenticator is None:
            return "535 AUTH not available"
        return bool(self.authenticator.authenticate(username, password, peer))

    def accept_mail_from(self, session: Session, sender: str, params: dict[str, str | None]) -> Verdict:
        message = self._message(session)
        size = params.get("SIZE")
        limit = self._max_size(message.peer)
        if size is not None and limit is not None and int(size) > int(limit):
            return Verdict.reject(TOO_BIG)
        if self.policy is None:
            return Verdict.accept()
        return to_verdict(self.policy.accept_from(sender, message))

    def accept_rcpt_to(self, session: Session, recipient: str, params: dict[str, str | None]) -> Verdict:
        if self.policy is None:
            return Verdict.accept()
        return to_verdict(self.policy.accept_rcpt_to(recipient, self._message(session)))

    def accept_data(self, session: Session) -> Verdict:
        if self.policy is None:
            return Verdict.accept()
        return to_verdict(self.policy.accept_data(self._message(session)))

    def accept_message(self, session: Session, message: mtakit.Message) -> Verdict:
        text = message_text(message.data)
        msg = self.to_pymta(message, text)
        limit = self._max_size(msg.peer)
        if limit is not None and len(text) > int(limit):
            return Verdict.reject(TOO_BIG)
        verdict = Verdict.accept()
        if self.policy is not None:
            verdict = to_verdict(self.policy.accept_msgdata(text, msg))
        if verdict.accepted and verdict.reply is None:
            # pymta's `250 OK`, not mtakit.Server's `Ok: queued as ID`.
            return Verdict.accept(OK, close=verdict.closes)
        return verdict

    def deliver(self, message: mtakit.Message) -> None:
        if self.deliverer is not None:
            self.deliverer.new_message_accepted(self.to_pymta(message, message_text(message.data)))

    @staticmethod
    def to_pymta(message: mtakit.Message, text: str) -> Message:
        """``message`` as a pymta :class:`~pymta.model.Message`."""
        return Message(
            Peer(message.peer.host, message.peer.port),
            smtp_helo=message.helo,
            smtp_from=message.mail_from,
            smtp_to=message.rcpt_to,
            msg_data=text,
            username=message.auth.username if message.auth is not None else None,
        )
