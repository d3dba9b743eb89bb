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

__all__ = ["Authenticator", "Deliverer", "Policy"]


class Policy:
    """Decides, command by command, what the server accepts: pymta's
    ``IMTAPolicy``, made Pythonic.

    Every hook accepts by default, and a hook you do not override is never
    called (the server answers it without entering Python). Each hook gets
    the :class:`~mtakit.Session` first; ``session.data`` is a dict that
    lives as long as the connection. A hook returns a decision: ``None`` or
    ``True`` accept, ``False`` rejects with the stage's default reply; or a
    :class:`~mtakit.Verdict`; or a :class:`~mtakit.Reply` or a reply string
    such as ``"550 5.7.1 No"`` (2xx and 3xx accept, 4xx and 5xx reject); or
    pymta's ``(accept, reply)``. ``Verdict.disconnect()`` also closes the
    connection.
    """

    def accept_connection(self, session: Session) -> Decision | Awaitable[Decision]:
        """A client connected, before the greeting. A rejection gives
        ``554`` and closes the connection."""
        return None

    def accept_helo(self, session: Session, helo: str) -> Decision | Awaitable[Decision]:
        """HELO, EHLO or LHLO with this name (EHLO and LHLO go to
        :meth:`accept_ehlo` instead when a subclass overrides it)."""
        return None

    def accept_ehlo(self, session: Session, helo: str) -> Decision | Awaitable[Decision]:
        """EHLO or LHLO with this name, if overridden; otherwise they go to
        :meth:`accept_helo`, which this default calls."""
        return self.accept_helo(session, helo)

    def accept_starttls(self, session: Session) -> Decision | Awaitable[Decision]:
        """STARTTLS, before the ``220``."""
        return None

    def accept_auth(self, session: Session, mechanism: str) -> Decision | Awaitable[Decision]:
        """AUTH with this mechanism, before the credentials are exchanged;
        the credentials go to the :class:`Authenticator`."""
        return None

    def accept_mail_from(
        self, session: Session, sender: str, params: dict[str, str | None]
    ) -> Decision | Awaitable[Decision]:
        """MAIL FROM: the sender without angle brackets (``""`` for
        ``<>``), and its parameters by keyword (``SIZE``, ``BODY``, ...)."""
        return None

    def accept_rcpt_to(
        self, session: Session, recipient: str, params: dict[str, str | None]
    ) -> Decision | Awaitable[Decision]:
        """Each RCPT TO. A rejection's default reply is ``550 5.7.1``."""
        return None

    def accept_data(self, session: Session) -> Decision | Awaitable[Decision]:
        """DATA (or the first BDAT), before the ``354``."""
        return None

    def accept_message(self, session: Session, message: Message) -> Decision | Awaitable[Decision]:
        """The whole message, after the end of data and before it is
        delivered. In LMTP mode the decision applies to every recipient."""
        return None


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
