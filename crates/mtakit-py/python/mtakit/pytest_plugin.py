"""The pytest plugin of mtakit, installed with the package.

Fixtures:

- ``smtp_server``: a :class:`~mtakit.testing.TestServer` for the test,
  configured by the ``@pytest.mark.smtp_server(**kwargs)`` marker if any;
- ``smtp_server_factory``: call it with ``TestServer`` keyword arguments to
  start as many servers as a test needs.

Every server is closed when the test ends. Each listens on its own free
port, so tests can run in parallel (pytest-xdist).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from mtakit.testing import TestServer

__all__ = ["smtp_server", "smtp_server_factory"]


def pytest_configure(config: pytest.Config) -> None:
    """Registers the ``smtp_server`` marker."""
    config.addinivalue_line(
        "markers",
        "smtp_server(**kwargs): TestServer options for the smtp_server fixture",
    )


@pytest.fixture
def smtp_server_factory() -> Iterator[Callable[..., TestServer]]:
    """Starts test servers with any options; closes them after the test."""
    servers: list[TestServer] = []

    def start(**kwargs: Any) -> TestServer:
        server = TestServer(**kwargs)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


@pytest.fixture
def smtp_server(
    request: pytest.FixtureRequest, smtp_server_factory: Callable[..., TestServer]
) -> TestServer:
    """A test server, with the options of the test's ``smtp_server`` marker."""
    marker = request.node.get_closest_marker("smtp_server")
    options = dict(marker.kwargs) if marker is not None else {}
    return smtp_server_factory(**options)
