"""Fixtures for channel tests: the fake Graph and Telegram servers wired in through CLAWGATE_GRAPH_URL /
CLAWGATE_TELEGRAM_API_URL, a Telegram webhook key, and a recorder of what the webhooks put on the inbound queue.
Import the fixtures you use into the test module."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from clawgate.local.fakes import FakeGraph, FakeTelegram
from clawgate.local.queue import Received
from clawgate.settings import reset_settings

from tests.runtime import RunningRuntime

TELEGRAM_WEBHOOK_KEY = "test-telegram-webhook-key"
WHATSAPP_TOKEN = "EAAG-test-whatsapp-token"
BOT_TOKEN = "7000000001:AAtest-bot-token"


@contextmanager
def environment(**values: str | None) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    try:
        for name, value in values.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        reset_settings()
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        reset_settings()


@pytest.fixture
def graph() -> Iterator[FakeGraph]:
    with FakeGraph() as fake, environment(CLAWGATE_GRAPH_URL=fake.url):
        yield fake


@pytest.fixture
def telegram() -> Iterator[FakeTelegram]:
    with FakeTelegram(token=BOT_TOKEN) as fake, environment(CLAWGATE_TELEGRAM_API_URL=fake.url):
        yield fake


@pytest.fixture
def webhook_key() -> Iterator[str]:
    with environment(CLAWGATE_TELEGRAM_WEBHOOK_KEY=TELEGRAM_WEBHOOK_KEY):
        yield TELEGRAM_WEBHOOK_KEY


def tenant_secrets(slug: str) -> dict[str, str]:
    """The environment variables behind the `secret:` references of tests.conftest.tenant_data."""
    return {f"CLAWGATE_SECRET_{slug.upper()}_WHATSAPP": WHATSAPP_TOKEN,
            f"CLAWGATE_SECRET_{slug.upper()}_TELEGRAM_DIRECTOR": BOT_TOKEN}  # fmt: skip


@pytest.fixture
def inbound(local: RunningRuntime) -> Iterator[list[Received]]:
    """What reaches the inbound queue's consumer (in order), instead of the agent turn."""
    queue = local.runtime.queues.get("inbound")
    queue.wait_idle()
    received: list[Received] = []

    def capture(batch: list[Received]) -> set[int]:
        received.extend(batch)
        return set()

    with local.runtime.divert("inbound", capture):
        yield received
        queue.wait_idle()
