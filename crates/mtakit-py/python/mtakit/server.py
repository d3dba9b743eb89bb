"""``mtakit.Server``: an SMTP server whose every command you police from
Python, pymta's idea on mtakit's engine.

    import mtakit

    class LocalOnly(mtakit.Policy):
        def accept_rcpt_to(self, session, recipient, params):
            return recipient.endswith("@example.com")

    server = mtakit.Server(policy=LocalOnly(), deliverer=mtakit.MaildirSink("/tmp/mail"))
    server.serve_forever(("127.0.0.1", 2525))   # Ctrl-C or SIGTERM stops it
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
from collections.abc import AsyncIterator, Mapping, Sequence
from types import FrameType, TracebackType
from typing import Protocol

from mtakit._mtakit import TLS, Limits, MaildirSink, MemorySink, _Listening, _Server
from mtakit.hooks import Authenticator, Deliverer, Policy

__all__ = ["Listening", "ListensOn", "Server", "UserTable"]

#: The address ``Server`` listens on when given none.
DEFAULT_ADDRESS = ("127.0.0.1", 2525)


class UserTable(dict[str, str]):
    """User names and their passwords, checked in Rust (PLAIN, LOGIN, and
    the token mechanisms with the token as the password): pass it as a
    server's ``authenticator``."""


class Listener(Protocol):
    """What has an address: the native servers."""

    @property
    def host(self) -> str: ...
    @property
    def port(self) -> int: ...


class ListensOn:
    """``host``, ``port`` and ``address`` of a server listening on one
    address (its ``_native`` half)."""

    _native: Listener

    @property
    def host(self) -> str:
        """The address listened on."""
        return self._native.host

    @property
    def port(self) -> int:
        """The port listened on (the real one, with port 0)."""
        return self._native.port

    @property
    def address(self) -> tuple[str, int]:
        """``(host, port)``, as ``socket`` takes it."""
        return (self.host, self.port)


class Listening(ListensOn):
    """A server listening on one address, serving in the background."""

    _native: _Listening

    def __init__(self, native: _Listening) -> None:
        self._native = native

    @property
    def closed(self) -> bool:
        """True once the server stopped."""
        return self._native.closed

    def wait(self, timeout: float | None = None) -> bool:
        """Waits until the server stops (or ``timeout`` seconds pass);
        returns whether it stopped. Ctrl-C raises ``KeyboardInterrupt``."""
        return self._native.wait(timeout)

    def close(self) -> None:
        """Stops accepting, lets sessions finish for up to 10 s, then
        closes them with ``421``. Calling it again does nothing."""
        self._native.close()

    def __enter__(self) -> Listening:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Listening {self.host}:{self.port}{' closed' if self.closed else ''}>"


class Server:
    """An SMTP server built from Python objects.

    - ``hostname``: the name in the greeting and the EHLO reply;
    - ``policy``: a :class:`~mtakit.Policy` whose hooks decide each command;
    - ``deliverer``: a :class:`~mtakit.Deliverer`, or a Rust sink,
      :class:`~mtakit.MaildirSink` or :class:`~mtakit.MemorySink` (the
      default, which keeps the latest 10,000 messages);
    - ``authenticator``: an :class:`~mtakit.Authenticator` or a
      :class:`UserTable`; AUTH is offered only with TLS unless
      ``allow_insecure_auth=True``, and ``require_auth=True`` refuses MAIL
      before it;
    - ``tls``: a :class:`~mtakit.TLS` (STARTTLS, or TLS from the first byte
      with ``implicit=True``), and ``require_tls=True`` to refuse MAIL
      without it;
    - ``limits``: a :class:`~mtakit.Limits`;
    - ``disable``: EHLO extensions to switch off, as ``TestServer``'s
      (``["enhancedstatuscodes", "chunking", ...]``).

    Hooks never run on the server's I/O threads: plain methods run on
    mtakit's hook thread, ``async def`` methods on the event loop of
    :meth:`listen`, or mtakit's own loop thread. An exception in a hook
    gives the client ``451 4.3.0`` and is logged on the ``mtakit`` logger.
    """

    def __init__(
        self,
        *,
        hostname: str = "localhost",
        policy: Policy | None = None,
        deliverer: Deliverer | MaildirSink | MemorySink | None = None,
        authenticator: Authenticator | Mapping[str, str] | None = None,
        tls: TLS | None = None,
        limits: Limits | None = None,
        require_auth: bool = False,
        require_tls: bool = False,
        allow_insecure_auth: bool = False,
        disable: Sequence[str] = (),
    ) -> None:
        if isinstance(authenticator, Mapping) and not isinstance(authenticator, dict):
            authenticator = UserTable(authenticator)
        self._native = _Server(
            hostname=hostname,
            policy=policy,
            deliverer=deliverer,
            authenticator=authenticator,
            tls=tls,
            limits=limits,
            require_auth=require_auth,
            require_tls=require_tls,
            allow_insecure_auth=allow_insecure_auth,
            disable=list(disable),
        )

    def start(self, address: tuple[str, int] = DEFAULT_ADDRESS) -> Listening:
        """Listens on ``address`` (port 0 picks a free port) and serves in
        the background; returns at once. Use the result as a context
        manager, or call its ``close()``."""
        host, port = address
        return Listening(self._native.start(host, port))

    def serve_forever(self, address: tuple[str, int] = DEFAULT_ADDRESS) -> None:
        """Serves on ``address`` until Ctrl-C or SIGTERM, then stops
        gracefully (sessions get up to 10 s to finish). The GIL is released
        while serving."""
        listening = self.start(address)
        previous = None
        if threading.current_thread() is threading.main_thread():
            previous = signal.signal(signal.SIGTERM, _interrupt)
        try:
            listening.wait()
        except KeyboardInterrupt:
            pass
        finally:
            listening.close()
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)

    @contextlib.asynccontextmanager
    async def listen(self, address: tuple[str, int] = DEFAULT_ADDRESS) -> AsyncIterator[Listening]:
        """Serves on ``address`` inside asyncio: ``async def`` hooks run on
        the running loop. Leaving the block stops the server gracefully.

        ::

            async with server.listen(("127.0.0.1", 0)) as listening:
                await send_mail(port=listening.port)
        """
        host, port = address
        loop = asyncio.get_running_loop()
        listening = Listening(self._native.start(host, port, loop))
        try:
            yield listening
        finally:
            await asyncio.to_thread(listening.close)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt
