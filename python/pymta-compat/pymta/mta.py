"""``PythonMTA``: pymta's server, on ``mtakit.Server``.

Unlike pymta's, it serves every connection concurrently in one process
(``use_multiprocessing`` is accepted and ignored), binds IPv4 or IPv6
and raises if it cannot bind, takes port ``0`` (see :attr:`PythonMTA.port`),
and stops at once when asked.
"""

from __future__ import annotations

import signal
import socket
import threading
from collections.abc import Callable
from types import FrameType

import mtakit

from pymta.api import IAuthenticator, IMessageDeliverer, IMTAPolicy
from pymta._adapter import DISABLED_EXTENSIONS, Hooks

__all__ = ["PythonMTA"]


class PythonMTA:
    """An SMTP server on ``local_address``:``bind_port``. The last three
    arguments are classes (or any callables), instantiated once when
    :meth:`serve_forever` starts; ``policy_class=None`` accepts every
    valid command and ``authenticator_class=None`` answers AUTH with
    ``535 AUTH not available``. ``hostname`` is the name in the replies
    (``socket.getfqdn()`` by default, as pymta's)."""

    def __init__(
        self,
        local_address: str,
        bind_port: int,
        deliverer_class: Callable[[], IMessageDeliverer],
        policy_class: Callable[[], IMTAPolicy] | None = None,
        authenticator_class: Callable[[], IAuthenticator] | None = None,
        *,
        hostname: str | None = None,
    ) -> None:
        self._local_address = local_address
        self._bind_port = bind_port
        self._deliverer_class = deliverer_class
        self._policy_class = policy_class
        self._authenticator_class = authenticator_class
        self.primary_hostname = hostname if hostname is not None else socket.getfqdn()
        self._shutdown = threading.Event()
        self._ready = threading.Event()
        #: Set once serve_forever listens or failed to.
        self._started = threading.Event()
        self._error: Exception | None = None
        self._listening: mtakit.Listening | None = None

    @property
    def port(self) -> int:
        """The port listened on (the real one for port 0); ``bind_port``
        before the server started."""
        listening = self._listening
        return listening.port if listening is not None else self._bind_port

    def wait_until_ready(self, timeout: float | None = None) -> bool:
        """Waits until :meth:`serve_forever` listens; returns whether it
        does, and raises what kept it from listening (e.g. ``OSError``
        for a port in use)."""
        self._started.wait(timeout)
        if self._error is not None:
            raise self._error
        return self._ready.is_set()

    def serve_forever(self, use_multiprocessing: bool = True) -> None:
        """Serves until :meth:`shutdown_server` is called (or Ctrl-C, or
        SIGTERM when run in the main thread).
        ``use_multiprocessing`` is ignored: one process serves every
        connection concurrently."""
        self._error = None
        try:
            listening = self._start()
        except Exception as error:
            self._error = error
            self._started.set()
            raise
        self._listening = listening
        self._ready.set()
        self._started.set()
        previous = None
        if threading.current_thread() is threading.main_thread():
            previous = signal.signal(signal.SIGTERM, _interrupt)
        try:
            while not self._shutdown.wait(0.1):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)
            self._ready.clear()
            self._started.clear()
            listening.close()
            self._shutdown.clear()

    def _start(self) -> mtakit.Listening:
        """Instantiates the classes and listens."""
        hooks = Hooks(
            self.primary_hostname,
            self._policy_class() if self._policy_class is not None else None,
            self._authenticator_class() if self._authenticator_class is not None else None,
            self._deliverer_class(),
        )
        server = mtakit.Server(
            hostname=self.primary_hostname,
            policy=hooks,
            deliverer=hooks,
            authenticator=hooks,
            allow_insecure_auth=True,
            disable=DISABLED_EXTENSIONS,
            # pymta took a bare LF in the data as a line break.
            limits=mtakit.Limits(line_endings="normalize"),
        )
        return server.start((self._local_address, self._bind_port))

    def shutdown_server(self, timeout_seconds: float | None = None) -> None:
        """Asks :meth:`serve_forever` to stop; it lets open sessions
        finish for up to 10 s, then closes them with ``421``.
        ``timeout_seconds`` is accepted for pymta's sake and ignored.
        Called before the server started, it stops the next
        :meth:`serve_forever` at once."""
        self._shutdown.set()


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt
