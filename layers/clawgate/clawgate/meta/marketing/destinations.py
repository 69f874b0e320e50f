"""Where a preset's ads lead, from what the tenant really has: the Page, the WhatsApp Cloud API number of
`channels.whatsapp` (its display number asked of Graph, so a Click-to-WhatsApp ad set names the number our webhook
serves and not another number of the Page), the Instagram professional account (`instagram_user_id`), the
Conversions API dataset and the website pixel."""

from __future__ import annotations

import re
from typing import Any

from clawgate import secrets
from clawgate.meta.marketing.calls import GraphError
from clawgate.meta.marketing.context import AdsContext
from clawgate.meta.marketing.presets import WHATSAPP_PRESETS, Destinations, Preset, PresetRefused
from clawgate.tenancy.channel_accounts import WhatsAppAccount
from clawgate.tenancy.model import TenantFile


def graph_request(method: str, path: str, token_ref: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    """One Graph call with a channel token (WhatsApp numbers, WABAs) outside the ads SDK session."""
    from clawgate.core import transport
    from clawgate.settings import get_settings

    settings = get_settings()
    url = f"{settings.graph_url.rstrip('/')}/{settings.graph_version}/{path}"
    headers = {"Authorization": f"Bearer {secrets.resolve(token_ref)}"}
    answer = transport.client().request(method, url, params=params, headers=headers)
    body: dict[str, Any] = answer.json() if answer.content else {}
    if answer.status_code >= 400:
        error = body.get("error") or {}
        raise GraphError(f"Graph error {error.get('code')}: {error.get('message') or answer.status_code}",
                         error.get("code"), error.get("error_subcode"))  # fmt: skip
    return body


def whatsapp_account(tenant: TenantFile, phone_number_id: str | None) -> WhatsAppAccount:
    for account in tenant.channels.whatsapp:
        if phone_number_id in (None, account.phone_number_id):
            return account
    raise PresetRefused("that WhatsApp number is not in the tenant file: the agency adds it under channels.whatsapp")


def e164(number: str) -> str:
    digits = re.sub(r"\D", "", number)
    if not 8 <= len(digits) <= 15:
        raise PresetRefused(f"{number!r} is not a phone number in international format")
    return "+" + digits


def whatsapp_number(tenant: TenantFile, phone_number_id: str | None) -> str:
    """The Cloud API number's display number, as Graph knows it (`GET /{phone_number_id}?fields=…`), in E.164."""
    account = whatsapp_account(tenant, phone_number_id)
    info = graph_request("GET", account.phone_number_id, account.access_token, {"fields": "display_phone_number"})
    if not info.get("display_phone_number"):
        raise PresetRefused(f"Graph has no display number for phone_number_id {account.phone_number_id}")
    return e164(str(info["display_phone_number"]))


def destinations_for(ctx: AdsContext, preset: Preset, phone_number_id: str | None = None) -> Destinations:
    tenant = ctx.tenant
    number = whatsapp_number(tenant, phone_number_id) if preset in WHATSAPP_PRESETS else None
    return Destinations(page_id=ctx.page_id, whatsapp_number=number, instagram_user_id=ctx.instagram_user_id,
                        dataset_id=ctx.dataset_id, pixel_id=ctx.pixel_id)  # fmt: skip
