"""mtakit: a real SMTP server for your tests, and SMTP servers whose every
command you police from Python, on a Rust engine.

- :mod:`mtakit.testing`: ``TestServer``, and the pytest plugin (fixtures
  ``smtp_server`` and ``smtp_server_factory``) installed with the package;
- :class:`Server` with a :class:`Policy`, an :class:`Authenticator` and a
  :class:`Deliverer` (or the Rust sinks :class:`MaildirSink` and
  :class:`MemorySink`);
- the ``mtakit`` command: ``mtakit serve``, the development mail server.
"""

from mtakit._mtakit import (
    TLS,
    Address,
    AuthInfo,
    Fault,
    Limits,
    MaildirSink,
    MemorySink,
    Message,
    Reply,
    Session,
    TlsInfo,
    Transcript,
    Verdict,
    __version__,
)
from mtakit.hooks import Authenticator, Deliverer, Policy
from mtakit.server import Listening, Server, UserTable

__all__ = [
    "TLS",
    "Address",
    "AuthInfo",
    "Authenticator",
    "Deliverer",
    "Fault",
    "Limits",
    "Listening",
    "MaildirSink",
    "MemorySink",
    "Message",
    "Policy",
    "Reply",
    "Server",
    "Session",
    "TlsInfo",
    "Transcript",
    "UserTable",
    "Verdict",
    "__version__",
]
