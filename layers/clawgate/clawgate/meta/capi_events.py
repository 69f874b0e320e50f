"""Conversions API events built with facebook-business (`facebook_business.adobjects.serverside`).

A WhatsApp milestone (levels 1-3) is a business-messaging event: `action_source=business_messaging`,
`messaging_channel=whatsapp`, the ctwa_clid unhashed and the phone (wa_id, digits with country code) hashed by the
SDK. A Lead Ads lead's CRM event (level 0) is `system_generated` with `user_data.lead_id` and
`custom_data.event_source=crm`. Purchase (level 3) carries a value and a currency, as Meta requires for it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from clawgate.meta.conversions import CRM_LEVEL

if TYPE_CHECKING:
    from facebook_business.adobjects.serverside.event import Event

LEAD_EVENT_SOURCE = "Clawgate"
PURCHASE_LEVEL = 3
_INTERNATIONAL_PHONE = re.compile(r"^[1-9]\d{6,14}$")  # a wa_id: digits with the country code


@dataclass(frozen=True)
class PendingEvent:
    """A claimed `capi_events_log` row with what its event needs."""

    log_id: int
    level: int
    event_name: str
    event_id: str
    event_time: int  # when the milestone was reached (unix seconds), the same on every attempt
    ctwa_clid: str | None
    phone: str | None
    leadgen_id: str | None
    enabled: bool
    dataset_id: str | None
    test_event_code: str | None
    currency: str | None
    value: Decimal | None


def build_event(pending: PendingEvent) -> Event:
    from facebook_business.adobjects.serverside.action_source import ActionSource
    from facebook_business.adobjects.serverside.custom_data import CustomData
    from facebook_business.adobjects.serverside.event import Event
    from facebook_business.adobjects.serverside.messaging_channel import MessagingChannel
    from facebook_business.adobjects.serverside.user_data import UserData

    common: dict[str, Any] = {"event_name": pending.event_name, "event_time": pending.event_time,
                              "event_id": pending.event_id}  # fmt: skip
    if pending.level == CRM_LEVEL:
        lead_id = int(pending.leadgen_id) if pending.leadgen_id and pending.leadgen_id.isdigit() else pending.leadgen_id
        properties = {"lead_event_source": LEAD_EVENT_SOURCE, "event_source": "crm"}
        return Event(**common, action_source=ActionSource.SYSTEM_GENERATED, user_data=UserData(lead_id=lead_id),
                     custom_data=CustomData(custom_properties=properties))  # fmt: skip
    custom = None
    if pending.level == PURCHASE_LEVEL:
        custom = CustomData(value=float(pending.value or 0), currency=(pending.currency or "USD").lower())
    phone = pending.phone if pending.phone and _INTERNATIONAL_PHONE.match(pending.phone) else None
    user = UserData(ctwa_clid=pending.ctwa_clid, phone=phone)  # the SDK hashes the phone, never the clid
    return Event(**common, action_source=ActionSource.BUSINESS_MESSAGING, messaging_channel=MessagingChannel.WHATSAPP,
                 user_data=user, custom_data=custom)  # fmt: skip


def request_params(events: list[PendingEvent]) -> dict[str, Any]:
    """The `POST /{dataset}/events` parameters, as `EventRequest` builds them (`data`, `test_event_code`)."""
    from facebook_business.adobjects.serverside.event_request import EventRequest

    first = events[0]
    request = EventRequest(pixel_id=first.dataset_id, events=[build_event(e) for e in events],
                           test_event_code=first.test_event_code or None)  # fmt: skip
    params: dict[str, Any] = request.get_params()
    return params


def readable(params: dict[str, Any]) -> dict[str, Any]:
    """What the log keeps of a request: the events as objects (the SDK sends each as a JSON string)."""
    return {**params, "data": [json.loads(e) if isinstance(e, str) else e for e in params.get("data") or []]}
