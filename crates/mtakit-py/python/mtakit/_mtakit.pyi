"""Type stubs for the native module ``mtakit._mtakit``."""

import os
from collections.abc import Iterator, Sequence
from email.message import EmailMessage
from typing import Any

__version__: str

def run_cli(argv: list[str]) -> int: ...

class Address:
    """A network address."""

    @property
    def host(self) -> str: ...
    @property
    def port(self) -> int: ...
    def __iter__(self) -> Iterator[str | int]: ...

class TlsInfo:
    """The TLS of a session."""

    @property
    def version(self) -> str: ...
    @property
    def cipher(self) -> str: ...
    @property
    def sni(self) -> str | None: ...

class AuthInfo:
    """Who authenticated, and how."""

    @property
    def username(self) -> str: ...
    @property
    def mechanism(self) -> str: ...

class Message:
    """A message the server accepted."""

    @property
    def id(self) -> str: ...
    @property
    def mail_from(self) -> str: ...
    @property
    def rcpt_to(self) -> list[str]: ...
    @property
    def data(self) -> bytes: ...
    @property
    def subject(self) -> str | None: ...
    @property
    def email(self) -> EmailMessage: ...
    @property
    def headers(self) -> list[tuple[str, str]]: ...
    @property
    def peer(self) -> Address: ...
    @property
    def helo(self) -> str | None: ...
    @property
    def tls(self) -> TlsInfo | None: ...
    @property
    def auth(self) -> AuthInfo | None: ...
    @property
    def mail_params(self) -> dict[str, str | None]: ...
    @property
    def findings(self) -> list[str]: ...

class Transcript:
    """The record of one finished SMTP session."""

    @property
    def id(self) -> int: ...
    @property
    def peer(self) -> Address: ...
    @property
    def tls(self) -> TlsInfo | None: ...
    @property
    def duration(self) -> float: ...
    @property
    def commands(self) -> list[str]: ...
    @property
    def replies(self) -> list[str]: ...
    @property
    def messages(self) -> list[str]: ...
    @property
    def entries(self) -> list[tuple[float, str, str]]: ...

class Reply:
    """An SMTP reply."""

    def __init__(
        self, code: int, enhanced_code: str | None = None, text: str | Sequence[str] | None = None
    ) -> None: ...
    @staticmethod
    def parse(text: str) -> Reply: ...
    @property
    def code(self) -> int: ...
    @property
    def enhanced_code(self) -> str | None: ...
    @property
    def lines(self) -> list[str]: ...
    @property
    def is_positive(self) -> bool: ...

class Verdict:
    """A hook's decision."""

    @staticmethod
    def accept(
        reply: Reply | str | tuple[int, str | list[str]] | None = None, *, close: bool = False
    ) -> Verdict: ...
    @staticmethod
    def reject(
        reply: Reply | str | tuple[int, str | list[str]] | None = None, *, close: bool = False
    ) -> Verdict: ...
    @staticmethod
    def disconnect(reply: Reply | str | tuple[int, str | list[str]] | None = None) -> Verdict: ...
    @property
    def accepted(self) -> bool: ...
    @property
    def reply(self) -> Reply | None: ...
    @property
    def closes(self) -> bool: ...

class Session:
    """A snapshot of a session, handed to every hook."""

    @property
    def peer(self) -> Address: ...
    @property
    def local(self) -> Address: ...
    @property
    def helo(self) -> str | None: ...
    @property
    def esmtp(self) -> bool: ...
    @property
    def tls(self) -> TlsInfo | None: ...
    @property
    def auth(self) -> AuthInfo | None: ...
    @property
    def mail_from(self) -> str | None: ...
    @property
    def rcpt_to(self) -> list[str]: ...
    @property
    def transactions(self) -> int: ...
    @property
    def data(self) -> dict[str, Any]: ...

class MemorySink:
    """Keeps accepted messages in memory."""

    def __init__(self) -> None: ...
    def messages(self) -> list[Message]: ...
    def wait_for_messages(self, n: int = 1, timeout: float = 10.0) -> list[Message]: ...
    def clear(self) -> None: ...
    def __len__(self) -> int: ...

class MaildirSink:
    """Writes accepted messages into a Maildir."""

    def __init__(self, path: str | os.PathLike[str]) -> None: ...
    @property
    def path(self) -> str: ...

class Limits:
    """The limits of each session."""

    def __init__(
        self,
        *,
        max_message_size: int | None = None,
        max_recipients: int | None = None,
        max_errors: int | None = None,
        max_connections: int | None = None,
        max_connections_per_ip: int | None = None,
        command_timeout: float | None = None,
        data_timeout: float | None = None,
        line_endings: str | None = None,
    ) -> None: ...
    @property
    def max_message_size(self) -> int: ...
    @property
    def max_recipients(self) -> int: ...
    @property
    def command_timeout(self) -> float: ...

class TLS:
    """A server's TLS."""

    @staticmethod
    def self_signed(names: Sequence[str] | None = None, *, implicit: bool = False) -> TLS: ...
    @staticmethod
    def from_pem(
        cert: str | os.PathLike[str], key: str | os.PathLike[str], *, implicit: bool = False
    ) -> TLS: ...
    @property
    def ca_pem(self) -> str | None: ...
    @property
    def implicit(self) -> bool: ...

class Fault:
    """A rule that makes a test server fail on purpose."""

    def __init__(
        self,
        stage: str,
        *,
        reply: str | None = None,
        delay: float | None = None,
        drip: float | None = None,
        disconnect: bool = False,
        disconnect_after_reply: bool = False,
        matching: str | None = None,
        rcpt_matching: str | None = None,
        after: int = 0,
        times: int | None = None,
        probability: float | None = None,
        scope: str = "global",
    ) -> None: ...

class _Listening:
    @property
    def host(self) -> str: ...
    @property
    def port(self) -> int: ...
    @property
    def closed(self) -> bool: ...
    def close(self) -> None: ...
    def wait(self, timeout: float | None = None) -> bool: ...

class _Server:
    def __init__(
        self,
        *,
        hostname: str = ...,
        policy: object | None = ...,
        deliverer: object | None = ...,
        authenticator: object | None = ...,
        tls: TLS | None = ...,
        limits: Limits | None = ...,
        require_auth: bool = ...,
        require_tls: bool = ...,
        allow_insecure_auth: bool = ...,
        disable: list[str] = ...,
    ) -> None: ...
    def start(self, host: str, port: int, event_loop: object | None = None) -> _Listening: ...

class _Harness:
    """One SMTP session in memory, no sockets and no threads: ``feed``
    bytes, get the replies they caused. Every decision calls the same hooks
    as ``Server`` (``policy.accept_*``, ``authenticator.authenticate``,
    ``deliverer.deliver``), synchronously on the calling thread."""

    def __init__(
        self,
        *,
        policy: object | None = ...,
        authenticator: object | None = ...,
        deliverer: object | None = ...,
        hostname: str = ...,
        peer: tuple[str, int] = ...,
        disable: list[str] = ...,
        max_message_size: int | None = ...,
    ) -> None: ...
    def start(self) -> list[Reply]:
        """Runs the session until it waits for input: the greeting."""
    def feed(self, data: bytes) -> list[Reply]:
        """Client bytes in, the replies they caused out. A hook's
        exception is raised here after the client got ``451 4.3.0``."""
    @property
    def closed(self) -> bool:
        """True once the session closed the connection."""
    @property
    def replies(self) -> list[Reply]:
        """Every reply so far."""
    @property
    def policy_errors(self) -> list[str]:
        """Verdicts the session had to correct, described."""
    @property
    def session(self) -> Session:
        """A snapshot of the session, as the hooks see it."""

class _TestServer:
    def __init__(
        self,
        *,
        host: str = ...,
        port: int = ...,
        hostname: str = ...,
        tls: str | None = ...,
        users: dict[str, str] | None = ...,
        policy: object | None = ...,
        authenticator: object | None = ...,
        faults: list[Fault] = ...,
        require_auth: bool = ...,
        max_message_size: int | None = ...,
        max_recipients: int | None = ...,
        disable: list[str] = ...,
        line_endings: str | None = ...,
        max_messages: int = ...,
    ) -> None: ...
    @property
    def host(self) -> str: ...
    @property
    def port(self) -> int: ...
    @property
    def ca_pem(self) -> str | None: ...
    @property
    def closed(self) -> bool: ...
    def messages(self) -> list[Message]: ...
    def message_count(self) -> int: ...
    def wait_for_messages(self, n: int, timeout: float) -> list[Message]: ...
    def wait_for_transcripts(self, n: int, timeout: float) -> list[Transcript]: ...
    def take_hook_error(self) -> BaseException | None: ...
    def clear(self) -> None: ...
    def transcripts(self) -> list[Transcript]: ...
    def close(self) -> None: ...
