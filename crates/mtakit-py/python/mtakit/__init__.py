"""mtakit: a real SMTP server for your tests, on a Rust engine.

The testing API is in :mod:`mtakit.testing` (``TestServer``), and the
pytest plugin (fixtures ``smtp_server`` and ``smtp_server_factory``) is
installed with the package.
"""

from mtakit._mtakit import (
    Address,
    AuthInfo,
    Message,
    Reply,
    Session,
    TlsInfo,
    Transcript,
    Verdict,
    __version__,
)
from mtakit.hooks import Authenticator, Deliverer, Policy

__all__ = [
    "Address",
    "AuthInfo",
    "Authenticator",
    "Deliverer",
    "Message",
    "Policy",
    "Reply",
    "Session",
    "TlsInfo",
    "Transcript",
    "Verdict",
    "__version__",
]
