"""`clawgate channels slack request-url` and `clawgate channels discord register-commands`: what an operator runs
once per Slack app or Discord application (and again after rotating the platform's webhook key).

- `slack request-url --tenant T --agent A --url BASE`: prints the Events API Request URL, the app's signing secret
  sealed into it (`channels.webhook_seal`), to paste under Event Subscriptions;
- `discord register-commands --tenant T --agent A [--url BASE]`: registers `/ask` with the application, and with
  `--url` prints the Interactions Endpoint URL (its public key sealed into it) to paste in the developer portal.
"""

from __future__ import annotations

import argparse
from typing import Any

from clawgate import secrets


def _account(kind: str, args: argparse.Namespace) -> Any:
    """The tenant's Slack or Discord account for the agent (the local database, or the deployed one with --aws)."""
    from clawgate.cli.environment import database
    from clawgate.tenancy.tenants import load_tenant

    database()
    tenant = load_tenant(args.tenant)
    if tenant is None:
        raise LookupError(f"no tenant {args.tenant!r}; apply its tenant file first")
    accounts = tenant.channels.slack if kind == "slack" else tenant.channels.discord
    account = next((a for a in accounts if a.agent == args.agent), None)
    if account is None:
        raise LookupError(f"tenant {args.tenant!r} has no {kind} account for agent {args.agent!r}")
    return account


def cmd_slack_request_url(args: argparse.Namespace) -> int:
    from clawgate.channels.webhook_seal import request_url

    account = _account("slack", args)
    print(request_url(args.url, "slack", args.tenant, args.agent, secrets.resolve(account.signing_secret)))
    return 0


def cmd_discord_register_commands(args: argparse.Namespace) -> int:
    from clawgate.channels.discord import register_commands
    from clawgate.channels.webhook_seal import request_url

    account = _account("discord", args)
    registered = register_commands(account.model_dump())
    names = ", ".join(f"/{command.get('name')}" for command in registered)
    print(f"discord {args.tenant}/{args.agent} (application {account.application_id}): registered {names}")
    if args.url:
        print(request_url(args.url, "discord", args.tenant, args.agent, account.public_key))
    return 0


def register(channels: Any) -> None:
    """Add `slack` and `discord` under `clawgate channels`."""
    slack = channels.add_parser("slack", help="Slack apps").add_subparsers(dest="action", required=True)
    url = slack.add_parser("request-url", help="print the Events API Request URL (signing secret sealed in)")
    url.add_argument("--tenant", required=True)
    url.add_argument("--agent", required=True)
    url.add_argument("--url", required=True, help="the public base URL, e.g. https://abc.execute-api…/")
    url.set_defaults(run=cmd_slack_request_url)
    discord = channels.add_parser("discord", help="Discord applications").add_subparsers(dest="action", required=True)
    commands = discord.add_parser("register-commands", help="register /ask; with --url print the endpoint URL")
    commands.add_argument("--tenant", required=True)
    commands.add_argument("--agent", required=True)
    commands.add_argument("--url", help="the public base URL: print the Interactions Endpoint URL too")
    commands.set_defaults(run=cmd_discord_register_commands)
