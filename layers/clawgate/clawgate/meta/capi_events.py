"""Conversions API events built with facebook-business (`facebook_business.adobjects.serverside`).

A WhatsApp milestone (levels 1-3) is a business-messaging event: `action_source=business_messaging`,
`messaging_channel=whatsapp`, the ctwa_clid unhashed and the phone (wa_id, digits with country code) hashed by the
SDK. A Lead Ads lead's CRM event (level 0) is `system_generated` with `user_data.lead_id` and
`custom_data.event_source=crm`. Purchase (level 3) carries a value and a currency, as Meta requires for it.

Messenger and Instagram milestones are business-messaging events too, with `messaging_channel` `messenger` or
`instagram` and the user data Meta's parameters reference lists for them, none of it hashed: Messenger
`page_id` + `page_scoped_user_id` (the PSID), Instagram `ig_account_id` (the professional account) + `ig_sid` (the
IGSID). facebook-business 26.0.3 can express neither: `MessagingChannel` has only WHATSAPP and `UserData` has
`page_id` but none of the other three fields. The SDK builds the common part; `messaging_fields` adds the rest to
the event's JSON before it is sent.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from clawgate.meta.conversions import CRM_LEVEL
from clawgate.meta.data.conversions import PendingEvent

if TYPE_CHECKING:
    from facebook_business.adobjects.serverside.event import Event

LEAD_EVENT_SOURCE = "Clawgate"
PURCHASE_LEVEL = 3
_INTERNATIONAL_PHONE = re.compile(r"^[1-9]\d{6,14}$")  # a wa_id: digits with the country code


def messaging_fields(pending: PendingEvent) -> dict[str, Any]:
    """What a Messenger or Instagram event adds to the SDK's JSON: the channel and the user data for it."""
    if pending.channel == "messenger":
        return {"messaging_channel": "messenger",
                "user_data": {"page_id": pending.account_id, "page_scoped_user_id": pending.user_id}}  # fmt: skip
    if pending.channel == "instagram":
        return {"messaging_channel": "instagram",
                "user_data": {"ig_account_id": pending.account_id, "ig_sid": pending.user_id}}  # fmt: skip
    return {}


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
    if messaging_fields(pending):  # Messenger / Instagram: channel and user data added by `request_params`
        return Event(**common, action_source=ActionSource.BUSINESS_MESSAGING, user_data=UserData(),
                     custom_data=custom)  # fmt: skip
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
    params["data"] = [_with_messaging_fields(data, event) for data, event in zip(params["data"], events, strict=True)]
    return params


def _with_messaging_fields(data: str, pending: PendingEvent) -> str:
    extra = messaging_fields(pending) if pending.level != CRM_LEVEL else {}
    if not extra:
        return data
    event = json.loads(data)
    event["messaging_channel"] = extra["messaging_channel"]
    event["user_data"] = {**(event.get("user_data") or {}), **extra["user_data"]}
    return json.dumps(event)


def readable(params: dict[str, Any]) -> dict[str, Any]:
    """What the log keeps of a request: the events as objects (the SDK sends each as a JSON string)."""
    return {**params, "data": [json.loads(e) if isinstance(e, str) else e for e in params.get("data") or []]}
