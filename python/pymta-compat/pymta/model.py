"""pymta's ``Message`` and ``Peer``: what a policy and a deliverer see."""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["Message", "Peer"]


class Peer:
    """The client of a connection: ``remote_ip`` and ``remote_port``."""

    def __init__(self, remote_ip: str, remote_port: int) -> None:
        self.remote_ip = remote_ip
        self.remote_port = remote_port

    def __repr__(self) -> str:
        return f"Peer({self.remote_ip}, {self.remote_port})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Peer):
            return NotImplemented
        return (self.remote_ip, self.remote_port) == (other.remote_ip, other.remote_port)

    def __hash__(self) -> int:
        return hash((self.remote_ip, self.remote_port))


class Message:
    """One message as pymta described it: the ``peer``, the HELO name
    (``smtp_helo``), the sender (``smtp_from``, without angle brackets),
    the recipients (``smtp_to``, a list, in order, duplicates kept), the
    text (``msg_data``: ``\\n`` line endings, dot-unstuffed, without the
    line break before the final dot) and the authenticated ``username``."""

    def __init__(
        self,
        peer: Peer,
        smtp_helo: str | None = None,
        smtp_from: str | None = None,
        smtp_to: str | Iterable[str] | None = None,
        msg_data: str | None = None,
        username: str | None = None,
    ) -> None:
        self.peer = peer
        self.smtp_helo = smtp_helo
        self.smtp_from = smtp_from
        if smtp_to is None:
            self.smtp_to: list[str] = []
        elif isinstance(smtp_to, str):
            self.smtp_to = [smtp_to]
        else:
            self.smtp_to = list(smtp_to)
        self.msg_data = msg_data
        self.username = username
        #: pymta kept half-finished AUTH LOGIN input here; kept for code
        #: that reads it, always empty.
        self.unvalidated_input: dict[str, str] = {}

    def __repr__(self) -> str:
        return (
            f"<Message from {self.smtp_from!r} to {self.smtp_to!r} via {self.peer!r}"
            f" helo={self.smtp_helo!r} username={self.username!r}>"
        )
