"""Glue for running users' hooks: the event loop for ``async def`` hooks.

Internal: the native module calls these.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
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
    done: Callable[[asyncio.Future[Any]], object],
) -> None:
    """Runs ``awaitable`` as a task on ``loop`` and calls ``done`` with the
    task when it ends, on the loop's thread. One hop to the loop: no
    ``concurrent.futures`` future in between."""

    def start() -> None:
        try:
            task = asyncio.ensure_future(awaitable)
        except BaseException as error:  # not awaitable after all
            failed: asyncio.Future[Any] = loop.create_future()
            failed.set_exception(error)
            done(failed)
            return
        task.add_done_callback(done)

    loop.call_soon_threadsafe(start)
