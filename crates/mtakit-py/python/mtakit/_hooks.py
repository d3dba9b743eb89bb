"""Glue for running users' hooks: the event loop for ``async def`` hooks.

Internal: the native module calls these.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from typing import Any

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None


def default_loop() -> asyncio.AbstractEventLoop:
    """The package's own event loop, on a daemon thread, started on first
    use: ``async def`` hooks run there unless a server runs inside a loop of
    its own (``Server.listen``)."""
    global _loop
    with _lock:
        if _loop is None or _loop.is_closed():
            loop = asyncio.new_event_loop()
            ready = threading.Event()

            def run() -> None:
                asyncio.set_event_loop(loop)
                loop.call_soon(ready.set)
                loop.run_forever()

            threading.Thread(target=run, name="mtakit-async-hooks", daemon=True).start()
            ready.wait()
            _loop = loop
        return _loop


def schedule(
    awaitable: Awaitable[Any],
    loop: asyncio.AbstractEventLoop,
    done: Callable[[Future[Any]], object],
) -> None:
    """Runs ``awaitable`` on ``loop`` and calls ``done`` with its future."""

    async def run() -> Any:
        return await awaitable

    asyncio.run_coroutine_threadsafe(run(), loop).add_done_callback(done)
