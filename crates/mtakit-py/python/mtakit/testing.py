"""A real SMTP server for tests: ``TestServer``.

    from mtakit.testing import TestServer

    with TestServer() as smtp:          # 127.0.0.1, a free port
        send_my_mail(host=smtp.host, port=smtp.port)
        [msg] = smtp.wait_for_messages(1)
        assert msg.subject == "Welcome"

Messages are kept in Rust, and mail arriving never takes the GIL: Python
objects are made only when the test asks for them.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import TracebackType

from mtakit._mtakit import Fault, Message, Transcript, _TestServer
from mtakit.hooks import Authenticator, Policy
from mtakit.server import ListensOn

__all__ = ["TestServer", "TlsFiles", "DEFAULT_TIMEOUT"]

#: How long the ``wait_for_*`` methods wait by default, in seconds.
DEFAULT_TIMEOUT = 10.0


@dataclass(frozen=True)
class TlsFiles:
    """The test CA of a server started with ``tls=``.

    ``ca_path`` is a PEM file to give a client as its trust root, for
    example ``ssl.create_default_context(cafile=smtp.tls.ca_path)``; it is
    removed when the server closes. ``ca_pem`` is the same certificate as
    text.
    """

    mode: str
    ca_pem: str
    ca_path: str


class TestServer(ListensOn):
    """A real SMTP server on a free loopback port that keeps every message.

    Use it as a context manager (``with`` or ``async with``), or call
    :meth:`close` when done. The keyword arguments:

    - ``host`` and ``port``: where to listen (``127.0.0.1``, ``0`` = any free
      port);
    - ``hostname``: the name in the greeting and the EHLO reply;
    - ``tls``: ``"starttls"`` or ``"implicit"``, with a fresh test CA at
      ``smtp.tls.ca_path``;
    - ``policy``: a :class:`~mtakit.Policy` whose hooks decide each command;
    - ``users``: ``{"alice": "secret"}`` for AUTH PLAIN and LOGIN, or
      ``authenticator``: an :class:`~mtakit.Authenticator`; and
      ``require_auth=True`` to refuse MAIL before AUTH;
    - ``faults``: :class:`~mtakit.Fault` rules that make the server fail on
      purpose (checked before the policy);
    - ``max_message_size`` (octets, advertised in SIZE) and
      ``max_recipients``;
    - ``disable``: EHLO extensions to switch off, such as
      ``["pipelining", "chunking"]``;
    - ``line_endings``: ``"reject"`` (the default), ``"normalize"`` or
      ``"record"`` for bare CR or LF in the content;
    - ``max_messages``: how many messages are kept (10,000; the oldest go
      first);
    - ``timeout``: the default wait of the ``wait_for_*`` methods, in
      seconds (10).

    An exception raised in a hook (a policy's, say) gives the
    client ``451 4.3.0`` and is raised again in the test: by the next
    ``wait_for_*`` call, or when the server closes.
    """

    # Not a test class, whatever its name says.
    __test__ = False

    _native: _TestServer

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        hostname: str = "localhost",
        tls: str | None = None,
        users: Mapping[str, str] | None = None,
        policy: Policy | None = None,
        authenticator: Authenticator | None = None,
        faults: Iterable[Fault] = (),
        require_auth: bool = False,
        max_message_size: int | None = None,
        max_recipients: int | None = None,
        disable: Iterable[str] = (),
        line_endings: str | None = None,
        max_messages: int = 10_000,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self._native = _TestServer(
            host=host,
            port=port,
            hostname=hostname,
            tls=tls,
            users=dict(users) if users is not None else None,
            policy=policy,
            authenticator=authenticator,
            faults=list(faults),
            require_auth=require_auth,
            max_message_size=max_message_size,
            max_recipients=max_recipients,
            disable=list(disable),
            line_endings=line_endings,
            max_messages=max_messages,
        )
        self.timeout = timeout
        self._tls_dir: str | None = None
        self.tls: TlsFiles | None = None
        ca_pem = self._native.ca_pem
        if tls is not None and ca_pem is not None:
            self._tls_dir = tempfile.mkdtemp(prefix="mtakit-tls-")
            ca_path = os.path.join(self._tls_dir, "ca.pem")
            with open(ca_path, "w", encoding="ascii") as f:
                f.write(ca_pem)
            self.tls = TlsFiles(mode=tls, ca_pem=ca_pem, ca_path=ca_path)

    @property
    def messages(self) -> list[Message]:
        """Every message accepted so far, oldest first."""
        return self._native.messages()

    def wait_for_messages(self, n: int = 1, timeout: float | None = None) -> list[Message]:
        """Waits until at least ``n`` messages arrived and returns them all.

        The GIL is released while waiting, so a client in another thread of
        this interpreter keeps running. Raises ``TimeoutError`` after
        ``timeout`` seconds (the server's ``timeout``, 10 s by default),
        saying what did arrive.
        """
        try:
            messages = self._native.wait_for_messages(n, self._timeout(timeout))
        except TimeoutError:
            self.raise_hook_error()
            raise
        self.raise_hook_error()
        return messages

    def wait_for_message(
        self,
        *,
        to: str | None = None,
        subject: str | None = None,
        mail_from: str | None = None,
        where: Callable[[Message], bool] | None = None,
        timeout: float | None = None,
    ) -> Message:
        """Waits for the first message that matches every criterion given.

        ``to`` matches any envelope recipient and ``mail_from`` the envelope
        sender (both case-insensitively); ``subject`` is compared with the
        decoded subject; ``where`` is any predicate. Messages already kept
        count. Raises ``TimeoutError`` when none matched in time.
        """
        wait = self._timeout(timeout)
        deadline = time.monotonic() + wait

        def matches(m: Message) -> bool:
            if to is not None and to.lower() not in (r.lower() for r in m.rcpt_to):
                return False
            if mail_from is not None and m.mail_from.lower() != mail_from.lower():
                return False
            if subject is not None and m.subject != subject:
                return False
            return where is None or where(m)

        seen = 0
        while True:
            messages = self._native.messages()
            for m in messages[seen:]:
                if matches(m):
                    return m
            seen = len(messages)
            left = deadline - time.monotonic()
            if left <= 0:
                wanted = ", ".join(
                    f"{k}={v!r}"
                    for k, v in (("to", to), ("subject", subject), ("mail_from", mail_from))
                    if v is not None
                )
                raise TimeoutError(
                    f"no message matching {wanted or 'the predicate'} within {wait} s; "
                    f"{len(messages)} other message(s) arrived: {messages!r}"
                )
            try:
                self._native.wait_for_messages(seen + 1, min(left, 1.0))
            except TimeoutError:
                pass
            self.raise_hook_error()

    async def wait_for_messages_async(
        self, n: int = 1, timeout: float | None = None
    ) -> list[Message]:
        """As :meth:`wait_for_messages`, without blocking the event loop."""
        return await asyncio.to_thread(self.wait_for_messages, n, timeout)

    async def wait_for_message_async(
        self,
        *,
        to: str | None = None,
        subject: str | None = None,
        mail_from: str | None = None,
        where: Callable[[Message], bool] | None = None,
        timeout: float | None = None,
    ) -> Message:
        """As :meth:`wait_for_message`, without blocking the event loop."""
        return await asyncio.to_thread(
            lambda: self.wait_for_message(
                to=to, subject=subject, mail_from=mail_from, where=where, timeout=timeout
            )
        )

    def raise_hook_error(self) -> None:
        """Raises the first exception a hook raised since the last call, if
        any. The ``wait_for_*`` methods and :meth:`close` call it."""
        error = self._native.take_hook_error()
        if error is not None:
            raise error

    def clear(self) -> None:
        """Forgets every message and transcript."""
        self._native.clear()

    def transcripts(self) -> list[Transcript]:
        """The SMTP dialogue of each finished session, oldest first."""
        return self._native.transcripts()

    def wait_for_transcripts(self, n: int = 1, timeout: float | None = None) -> list[Transcript]:
        """Waits until at least ``n`` sessions have finished and returns
        every transcript kept. A session's transcript is made when the
        connection closes, shortly after the client's ``QUIT``. Raises
        ``TimeoutError`` after ``timeout`` seconds.
        """
        return self._native.wait_for_transcripts(n, self._timeout(timeout))

    def close(self) -> None:
        """Stops the server and removes the test CA's files.

        Sessions still open get up to 5 s to finish, then ``421``. Calling
        it again does nothing.
        """
        self._native.close()
        if self._tls_dir is not None:
            shutil.rmtree(self._tls_dir, ignore_errors=True)
            self._tls_dir = None
        self.raise_hook_error()

    @property
    def closed(self) -> bool:
        """True once the server was closed."""
        return self._native.closed

    def _timeout(self, timeout: float | None) -> float:
        return self.timeout if timeout is None else timeout

    def __enter__(self) -> TestServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None:
            self.close()
        else:
            # Do not hide the test's own exception behind a hook's.
            self._close_quietly()

    async def __aenter__(self) -> TestServer:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None:
            await asyncio.to_thread(self.close)
        else:
            await asyncio.to_thread(self._close_quietly)

    def _close_quietly(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"<TestServer {self.host}:{self.port} {state}>"
