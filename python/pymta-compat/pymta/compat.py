"""The small helpers pymta's ``compat`` module offered (Python 3 only):
``b64encode``/``b64decode`` between text and base64 text, ``b()``, and
the old aliases ``queue``, ``basestring`` and ``unicode``."""

from __future__ import annotations

import base64
import queue

__all__ = ["b", "b64decode", "b64encode", "basestring", "queue", "unicode"]

basestring = str
unicode = str


def b(text: str | bytes, encoding: str = "iso-8859-1") -> bytes:
    """``text`` as bytes (ISO-8859-1 by default, as pymta did)."""
    if isinstance(text, str):
        return text.encode(encoding)
    return bytes(text)


def b64encode(text: str | bytes) -> str:
    """The base64 form of ``text``, as ASCII text."""
    return base64.b64encode(b(text)).decode("ascii").strip()


def b64decode(text: str | bytes) -> str:
    """Decodes base64 text to ASCII text; raises ``ValueError`` (or
    ``binascii.Error``) on garbage."""
    return base64.b64decode(b(text)).decode("ascii")
