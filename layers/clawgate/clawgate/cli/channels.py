"""`clawgate channels …` and `clawgate pairing …`:

- `channels telegram set-webhook --tenant T --agent A --url BASE`: setWebhook with the bot's derived secret and
  allowed_updates (the bot's username rides along as `?bot=` for mention gating in groups);
- `channels status [--tenant T]`: getWebhookInfo per bot (URL, pending updates, last error);
- `channels meta subscribe --tenant T`: subscribes the app to each Messenger Page's messaging fields (and `leadgen`
  on the Lead Ads page) and each Instagram account's, and lists the fields to enable for the app's `instagram`
  object in the App Dashboard;
- `pairing approve CODE` and `pairing list [--tenant T]`.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import Any

from clawgate import secrets
from clawgate.tenancy.model import TenantFile

ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]
MAX_CONNECTIONS = 40


def _database() -> None:
    from clawgate.cli.environment import database

    database()


def _tenant(slug: str) -> TenantFile:
    from clawgate.tenancy.tenants import load_tenant

    tenant = load_tenant(slug)
    if tenant is None:
        raise LookupError(f"no tenant {slug!r}; apply its tenant file first")
    return tenant


def webhook_url(base: str, tenant: str, agent: str, bot_username: str | None) -> str:
    url = f"{base.rstrip('/')}/webhooks/telegram/{tenant}/{agent}"
    return f"{url}?bot={bot_username}" if bot_username else url


def cmd_set_webhook(args: argparse.Namespace) -> int:
    from clawgate.channels.telegram_api import TelegramApiError

    try:
        return _set_webhook(args)
    except TelegramApiError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


def _set_webhook(args: argparse.Namespace) -> int:
    from clawgate.channels.telegram_api import call
    from clawgate.channels.telegram_webhook import account_id, webhook_secret

    _database()
    tenant = _tenant(args.tenant)
    bot = next((b for b in tenant.channels.telegram if b.agent == args.agent), None)
    if bot is None:
        raise LookupError(f"tenant {args.tenant!r} has no Telegram bot for agent {args.agent!r}")
    token = secrets.resolve(bot.bot_token)
    username = (call(token, "getMe") or {}).get("username")
    url = webhook_url(args.url, args.tenant, args.agent, username)
    params: dict[str, Any] = {"url": url, "secret_token": webhook_secret(account_id(args.tenant, args.agent)),
                              "allowed_updates": ALLOWED_UPDATES, "max_connections": MAX_CONNECTIONS}  # fmt: skip
    if args.drop_pending_updates:
        params["drop_pending_updates"] = True
    call(token, "setWebhook", params)
    print(f"telegram {args.tenant}/{args.agent} (@{username}): webhook set to {url}")
    return 0


def _telegram_lines(tenant: TenantFile) -> list[str]:
    from clawgate.channels.telegram_api import TelegramApiError, call

    lines = []
    for bot in tenant.channels.telegram:
        label = f"telegram {tenant.slug}/{bot.agent}"
        try:
            info = call(secrets.resolve(bot.bot_token), "getWebhookInfo") or {}
        except (TelegramApiError, secrets.MissingSecretError) as error:
            lines.append(f"{label}: unavailable ({error})")
            continue
        line = f"{label}: url={info.get('url') or '(none)'} pending={info.get('pending_update_count', 0)}"
        if info.get("last_error_date"):
            when = datetime.fromtimestamp(int(info["last_error_date"]), UTC).isoformat(timespec="seconds")
            line += f" last_error={when} {info.get('last_error_message', '')}"
        lines.append(line)
    return lines


def cmd_status(args: argparse.Namespace) -> int:
    from clawgate.db import registry_tx
    from clawgate.tenancy.data.registry import list_tenants

    _database()
    with registry_tx() as conn:
        slugs = [args.tenant] if args.tenant else [t.slug for t in list_tenants(conn)]
    for slug in slugs:
        tenant = _tenant(slug)
        for line in _telegram_lines(tenant):
            print(line)
        for account in tenant.channels.whatsapp:
            print(f"whatsapp {slug}: phone_number_id={account.phone_number_id} agent={account.agent}"
                  f" dm_policy={account.dm_policy}")  # fmt: skip
    return 0


def cmd_pairing_approve(args: argparse.Namespace) -> int:
    from clawgate.agent.dm_policy import approve
    from clawgate.observability import mask_phone

    _database()
    approval = approve(args.code)
    print(f"approved: {approval.channel} {approval.account_id} peer {mask_phone(approval.peer_id)}"
          f" (tenant {approval.tenant})")  # fmt: skip
    return 0


def cmd_pairing_list(args: argparse.Namespace) -> int:
    from clawgate.agent.dm_policy import pending
    from clawgate.observability import mask_phone

    _database()
    for code in pending(args.tenant):
        print(f"{code.code}\t{code.tenant}\t{code.channel}\t{code.account_id}\t{mask_phone(code.peer_id)}")
    return 0


def cmd_meta_subscribe(args: argparse.Namespace) -> int:
    from clawgate.channels.meta_send import INSTAGRAM_FIELDS, PAGE_FIELDS, subscribe
    from clawgate.core.channels import DeliveryError

    _database()
    tenant = _tenant(args.tenant)
    lead_page = tenant.meta.page_id if tenant.meta else None
    targets = [("messenger", a.page_id, a.access_token, [*PAGE_FIELDS, *(["leadgen"] * (a.page_id == lead_page))])
               for a in tenant.channels.messenger]  # fmt: skip
    targets += [("instagram", a.ig_user_id, a.access_token, list(INSTAGRAM_FIELDS)) for a in tenant.channels.instagram]
    if not targets:
        print(f"tenant {args.tenant!r} has no Messenger page or Instagram account", file=sys.stderr)
        return 1
    failed = 0
    for channel, account_id, token, fields in targets:
        try:
            subscribe(channel, account_id, secrets.resolve(token), fields)
            print(f"{channel} {account_id}: subscribed to {', '.join(fields)}")
        except (DeliveryError, secrets.MissingSecretError) as error:
            failed += 1
            print(f"{channel} {account_id}: not subscribed ({error})", file=sys.stderr)
    if tenant.channels.instagram:
        print(f"App Dashboard > Webhooks > Instagram: enable {', '.join(INSTAGRAM_FIELDS)}")
    return 1 if failed else 0


def register(commands: Any) -> None:
    """Add `channels` and `pairing` to the `clawgate` parser's subcommands."""
    channels = commands.add_parser("channels", help="messaging channels").add_subparsers(dest="sub", required=True)
    telegram = channels.add_parser("telegram", help="Telegram bots").add_subparsers(dest="action", required=True)
    hook = telegram.add_parser("set-webhook", help="register a bot's webhook with its secret")
    hook.add_argument("--tenant", required=True)
    hook.add_argument("--agent", required=True)
    hook.add_argument("--url", required=True, help="the public base URL, e.g. https://abc.execute-api…/")
    hook.add_argument("--drop-pending-updates", action="store_true")
    hook.set_defaults(run=cmd_set_webhook)
    meta = channels.add_parser("meta", help="Messenger pages and Instagram accounts").add_subparsers(
        dest="action", required=True
    )
    subscribe = meta.add_parser("subscribe", help="subscribe the app to the tenant's messaging webhooks")
    subscribe.add_argument("--tenant", required=True)
    subscribe.set_defaults(run=cmd_meta_subscribe)
    from clawgate.cli.workplace_channels import register as register_workplace_channels

    register_workplace_channels(channels)
    status = channels.add_parser("status", help="webhook state of every bot (pending updates, last error)")
    status.add_argument("--tenant")
    status.set_defaults(run=cmd_status)

    pairing = commands.add_parser("pairing", help="DM pairing codes").add_subparsers(dest="sub", required=True)
    approve = pairing.add_parser("approve", help="let the sender of this code reach the agent")
    approve.add_argument("code")
    approve.set_defaults(run=cmd_pairing_approve)
    listing = pairing.add_parser("list", help="pending pairing codes")
    listing.add_argument("--tenant")
    listing.set_defaults(run=cmd_pairing_list)
