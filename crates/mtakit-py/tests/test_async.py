"""TestServer in async tests, with aiosmtplib."""

from __future__ import annotations

import ssl
from email.message import EmailMessage

import aiosmtplib
import pytest

from mtakit.testing import TestServer


def welcome() -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "app@example.com"
    msg["To"] = "user@example.com"
    msg["Subject"] = "Willkommen, Zoë!"
    msg.set_content("Hallo")
    return msg


@pytest.mark.asyncio
async def test_aiosmtplib_sends_and_the_async_wait_does_not_block_the_loop() -> None:
    async with TestServer() as smtp:
        await aiosmtplib.send(welcome(), hostname=smtp.host, port=smtp.port)
        [msg] = await smtp.wait_for_messages_async(1)
        assert msg.subject == "Willkommen, Zoë!"
        assert msg.rcpt_to == ["user@example.com"]


@pytest.mark.asyncio
async def test_waiting_first_then_sending_on_the_same_loop() -> None:
    import asyncio

    async with TestServer() as smtp:
        waiter = asyncio.create_task(smtp.wait_for_message_async(to="user@example.com"))
        await asyncio.sleep(0)
        await aiosmtplib.send(welcome(), hostname=smtp.host, port=smtp.port)
        msg = await waiter
        assert msg.email.get_content().strip() == "Hallo"


@pytest.mark.asyncio
async def test_aiosmtplib_starttls_with_the_test_ca() -> None:
    async with TestServer(tls="starttls", users={"alice": "secret"}) as smtp:
        assert smtp.tls is not None
        context = ssl.create_default_context(cafile=smtp.tls.ca_path)
        await aiosmtplib.send(
            welcome(),
            hostname="localhost",
            port=smtp.port,
            start_tls=True,
            tls_context=context,
            username="alice",
            password="secret",
        )
        [msg] = await smtp.wait_for_messages_async(1)
        assert msg.tls is not None and msg.auth is not None
        assert msg.auth.username == "alice"
