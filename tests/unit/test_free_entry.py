"""The free entry point window a WhatsApp status announces (`conversation.origin.type` `referral_conversion`): only
a well-formed expiry in the next 72 hours counts; anything else a hostile body puts there is ignored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from clawgate.agent.statuses import free_entry_until

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
IN_72H = int((NOW + timedelta(hours=72)).timestamp())


def status(conversation: Any) -> dict[str, Any]:
    return {"id": "wamid.X", "status": "sent", "timestamp": str(int(NOW.timestamp())), "conversation": conversation}


@pytest.mark.parametrize("expires", [IN_72H, str(IN_72H), str(IN_72H - 3600)])
def test_a_granted_free_entry_point_ends_at_its_expiration(expires: Any) -> None:
    conversation = {"id": "c1", "expiration_timestamp": expires, "origin": {"type": "referral_conversion"}}
    assert free_entry_until(status(conversation), NOW) == datetime.fromtimestamp(int(expires), UTC)


@pytest.mark.parametrize(
    "conversation",
    [
        {"id": "c1", "expiration_timestamp": str(IN_72H), "origin": {"type": "service"}},  # not a free entry point
        {"id": "c1", "expiration_timestamp": str(IN_72H), "origin": "referral_conversion"},
        {"id": "c1", "expiration_timestamp": str(IN_72H)},
        {"id": "c1", "origin": {"type": "referral_conversion"}},  # `delivered` statuses carry no expiry
        "referral_conversion",
        ["referral_conversion"],
        None,
    ],
)
def test_other_conversations_grant_nothing(conversation: Any) -> None:
    assert free_entry_until(status(conversation), NOW) is None


@pytest.mark.parametrize(
    "expires",
    [IN_72H + 3600, str(IN_72H + 86400 * 3650), str(int(NOW.timestamp()) - 60), "0", "-1", -1, "1e10", " 1", "²",
     "9" * 5000, True, 1.5e9, None, {"$gt": 0}, [IN_72H], ""],
)  # fmt: skip
def test_a_hostile_or_malformed_expiry_is_ignored(expires: Any) -> None:
    conversation = {"id": "c1", "expiration_timestamp": expires, "origin": {"type": "referral_conversion"}}
    assert free_entry_until(status(conversation), NOW) is None
