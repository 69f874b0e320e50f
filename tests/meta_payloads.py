"""Messenger and Instagram webhook payloads shaped as Meta documents them (Messenger Platform webhook events;
Instagram API with Instagram Login notification examples)."""

from __future__ import annotations

import itertools
import time
import uuid
from typing import Any

_clock = itertools.count(int(time.time() * 1000))


def mid() -> str:
    return "m_" + uuid.uuid4().hex


def event(sender: str, account: str, **body: Any) -> dict[str, Any]:
    return {"sender": {"id": sender}, "recipient": {"id": account}, "timestamp": next(_clock), **body}


def text(sender: str, account: str, words: str, **message: Any) -> dict[str, Any]:
    return event(sender, account, message={"mid": mid(), "text": words, **message})


def ad_referral(ad_id: str, title: str = "Smile makeover") -> dict[str, Any]:
    return {"source": "ADS", "type": "OPEN_THREAD", "ad_id": ad_id, "ref": "summer",
            "ads_context_data": {"ad_title": title, "photo_url": "https://scontent.xx.fbcdn.net/ad.jpg"}}  # fmt: skip


def body(obj: str, account: str, *events: dict[str, Any]) -> dict[str, Any]:
    """`obj` is `page` (Messenger) or `instagram`."""
    return {"object": obj, "entry": [{"id": account, "time": next(_clock), "messaging": list(events)}]}
