"""Loopback fakes of the vendor APIs Clawgate calls (Anthropic, Meta Graph, the Instagram API, Telegram, Slack,
Discord), for tests
and offline dev."""

from clawgate.local.fakes.anthropic import Answer, FakeAnthropic, anthropic_error
from clawgate.local.fakes.base import FakeServer, RecordedRequest, Response, UploadedFile
from clawgate.local.fakes.discord import FakeDiscord
from clawgate.local.fakes.graph import FakeGraph
from clawgate.local.fakes.graph_support import graph_error
from clawgate.local.fakes.instagram import FakeInstagram
from clawgate.local.fakes.openai import FakeOpenAI
from clawgate.local.fakes.rates import FakeRates
from clawgate.local.fakes.slack import FakeSlack
from clawgate.local.fakes.telegram import FakeTelegram, telegram_error

__all__ = [
    "Answer",
    "FakeAnthropic",
    "FakeDiscord",
    "FakeGraph",
    "FakeInstagram",
    "FakeOpenAI",
    "FakeRates",
    "FakeServer",
    "FakeSlack",
    "FakeTelegram",
    "RecordedRequest",
    "Response",
    "UploadedFile",
    "anthropic_error",
    "graph_error",
    "telegram_error",
]
