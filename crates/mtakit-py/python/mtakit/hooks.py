"""The base classes for code that the server calls: ``Policy``,
``Authenticator`` and ``Deliverer``.

Subclass one and override what you need. Any method may be a plain
``def`` or an ``async def``. Plain methods run on mtakit's hook thread,
``async def`` methods on an event loop (the server's, or mtakit's own);
neither ever runs on the server's I/O threads. An exception raised in a
hook gives the client ``451 4.3.0``, is logged on the ``mtakit`` logger,
and a ``TestServer`` raises it again in the test.
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from typing import TYPE_CHECKING, Union

if TYPE_CHECKING:
    from mtakit._mtakit import Message, Reply, Session, Verdict

    #: What a policy hook may return: ``None``/``True`` accept, ``False``
    #: rejects with the default reply; a ``Verdict``; a ``Reply`` or a
    #: reply string (2xx and 3xx accept, 4xx and 5xx reject); or pymta's
    #: ``(accept, reply)`` with ``reply`` ``None``, a string, or
    #: ``(code, text_or_lines)``.
    Decision = Union[
        None, bool, Verdict, Reply, str, "tuple[bool, None | str | Reply | tuple[int, str | list[str]]]"
    ]

__all__ = ["Authenticator", "Deliverer"]


class Authenticator:
    """Checks AUTH credentials.

    ``mechanisms`` lists the SASL mechanisms to offer; ``PLAIN`` and
    ``LOGIN`` by default (``XOAUTH2`` and ``OAUTHBEARER`` pass the bearer
    token as ``password``).
    """

    mechanisms: Sequence[str] = ("PLAIN", "LOGIN")

    def authenticate(
        self, session: Session, mechanism: str, username: str, password: str
    ) -> bool | str | Reply | Awaitable[bool | str | Reply]:
        """Returns ``True`` to accept (``235``), ``False`` to refuse
        (``535 5.7.8``), or a reply to send instead, such as
        ``"454 4.7.0 Try later"``. Refuses everyone unless overridden."""
        return False


class Deliverer:
    """Receives each accepted message. Raising refuses it with
    ``451 4.3.0``: the client keeps the message and tries again."""

    def deliver(self, message: Message) -> None | Awaitable[None]:
        """Stores or forwards ``message``. Does nothing unless overridden."""
        return None
