"""The pytest plugin: fixtures, the marker, and pytest-xdist."""

from __future__ import annotations

import smtplib
import subprocess
import sys
import textwrap
from collections.abc import Callable

import pytest

from mtakit.testing import TestServer


def test_the_smtp_server_fixture_is_a_running_server(smtp_server: TestServer) -> None:
    with smtplib.SMTP(smtp_server.host, smtp_server.port) as client:
        client.sendmail("a@example.com", ["b@example.com"], "Subject: fixture\r\n\r\nx\r\n")
    assert smtp_server.wait_for_messages(1)[0].subject == "fixture"


@pytest.mark.smtp_server(max_message_size=1234, hostname="mx.marker.test")
def test_the_marker_configures_the_fixture(smtp_server: TestServer) -> None:
    with smtplib.SMTP(smtp_server.host, smtp_server.port) as client:
        code, banner = client.ehlo()
        assert code == 250 and banner.startswith(b"mx.marker.test")
        assert client.esmtp_features["size"] == "1234"


def test_the_factory_starts_several_servers(smtp_server_factory: Callable[..., TestServer]) -> None:
    first = smtp_server_factory()
    second = smtp_server_factory(users={"u": "p"})
    assert first.port != second.port
    with smtplib.SMTP(second.host, second.port) as client:
        client.login("u", "p")


def test_fixtures_close_their_servers(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import socket, pytest
        ports = []
        def test_one(smtp_server):
            ports.append(smtp_server.port)
        def test_two():
            with pytest.raises(ConnectionRefusedError):
                socket.create_connection(("127.0.0.1", ports[0]), timeout=5)
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:randomly")
    result.assert_outcomes(passed=2)


def test_pytest_xdist_runs_servers_in_parallel_workers(pytester: pytest.Pytester) -> None:
    body = textwrap.dedent(
        """
        import smtplib, pytest
        @pytest.mark.parametrize("i", range(8))
        def test_send(smtp_server, i):
            with smtplib.SMTP(smtp_server.host, smtp_server.port) as c:
                c.sendmail("a@example.com", ["b@example.com"], f"Subject: {i}\\r\\n\\r\\nx\\r\\n")
            assert smtp_server.wait_for_messages(1)[0].subject == str(i)
        """
    )
    pytester.makepyfile(body)
    result = pytester.runpytest_subprocess("-n", "2")
    result.assert_outcomes(passed=8)


def test_a_server_left_open_at_exit_does_not_hang_the_interpreter() -> None:
    script = textwrap.dedent(
        """
        import socket
        from mtakit.testing import TestServer
        servers = [TestServer(), TestServer(tls="starttls")]
        idle = socket.create_connection((servers[0].host, servers[0].port))
        idle.recv(100)
        print("started", flush=True)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "started"
