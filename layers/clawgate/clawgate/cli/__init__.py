"""The `clawgate` command. Each subcommand parses its arguments and delegates to the domain modules; the command
groups of one domain each live beside this module (`cli/channels.py`, `cli/jobs.py`, …). The CLI is wiring, at the
top of the layers: it may start the local runtime and its database, which the domains never import."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from clawgate.tenancy.model import TenantFileError

Command = Callable[[argparse.Namespace], int]


def _database() -> None:
    from clawgate.cli.environment import database_url

    database_url()


def cmd_tenants_apply(args: argparse.Namespace) -> int:
    from clawgate.tenancy.apply import apply_tenant
    from clawgate.tenancy.model import load_tenant_file

    tenant = load_tenant_file(args.file)
    _database()
    result = apply_tenant(tenant)
    if result.changes:
        print(f"tenant {result.slug}: " + "; ".join(result.changes))
    else:
        print(f"tenant {result.slug}: unchanged")
    return 0


def cmd_tenants_list(_: argparse.Namespace) -> int:
    from clawgate.cli.environment import database
    from clawgate.db import registry_tx
    from clawgate.tenancy.data.registry import list_tenants

    database()
    with registry_tx() as conn:
        tenants = list_tenants(conn)
    for tenant in tenants:
        print(f"{tenant.slug}\t{tenant.name}\t{tenant.timezone}\t{tenant.currency}\t{tenant.accounts} channel accounts")
    return 0


def cmd_tokens_create(args: argparse.Namespace) -> int:
    from clawgate.tenancy.tokens import create_token

    _database()
    print(create_token(args.tenant, args.label))
    return 0


def cmd_tokens_list(args: argparse.Namespace) -> int:
    from clawgate.tenancy.tokens import list_tokens

    _database()
    for token in list_tokens(args.tenant):
        state = f"revoked {token.revoked_at:%Y-%m-%d %H:%M}" if token.revoked_at else "live"
        used = f"{token.last_used_at:%Y-%m-%d %H:%M}" if token.last_used_at else "never"
        print(f"{token.id}\t{token.label or '-'}\tcreated {token.created_at:%Y-%m-%d %H:%M}\tused {used}\t{state}")
    return 0


def cmd_tokens_revoke(args: argparse.Namespace) -> int:
    from clawgate.tenancy.tokens import revoke_token

    _database()
    try:
        closed = revoke_token(args.tenant, args.id)
    except LookupError as error:
        print(str(error), file=sys.stderr)
        return 1
    print(f"revoked token {args.id}; {closed} open control-plane connection(s) closed")
    return 0


def cmd_db_upgrade(_: argparse.Namespace) -> int:
    from clawgate.db.migrate import upgrade_all

    _database()
    for schema, versions in upgrade_all().items():
        print(f"{schema}: {', '.join(versions) if versions else 'up to date'}")
    return 0


def _run_turn(run: dict[str, object]) -> int:
    """Run one AgentTurn in this process (the local runtime's state machine) and print the reply."""
    from clawgate.agent.run_api import turn_result
    from clawgate.cli.environment import database, state_machines

    database()
    with state_machines() as workflows:
        output = workflows.run("agent_turn", run)
    turns = output.get("turns") or []
    if "request_id" in run:
        result = turn_result(str(run["tenant"]), str(run["request_id"]))
    elif turns:
        from clawgate.agent.data.turns import load_turn
        from clawgate.db import tenant_tx

        with tenant_tx(str(run["tenant"]), "ro") as conn:
            turn = load_turn(conn, int(turns[0]["turn_id"]))
        result = {"turn_id": turn.id, "status": turn.status, "reply": turn.reply_text}
    else:
        print("nothing to run", file=sys.stderr)
        return 1
    print(result.get("reply") or "")
    print(f"(turn {result.get('turn_id')}: {result.get('status')})", file=sys.stderr)
    return 0 if result.get("status") in ("succeeded", "budget_exceeded") else 1


def cmd_agent(args: argparse.Namespace) -> int:
    import uuid

    run = {"source": "api", "tenant": args.tenant, "agent": args.agent, "text": args.message,
           "peer": args.session or "cli", "request_id": f"cli-{uuid.uuid4()}"}  # fmt: skip
    return _run_turn(run)


def cmd_turns_replay(args: argparse.Namespace) -> int:
    return _run_turn({"source": "replay", "tenant": args.tenant, "turn_id": args.turn_id})


def cmd_dev(args: argparse.Namespace) -> int:
    from clawgate.local.dev import Mode, run

    mode = Mode("dev", workers=args.workers, worker_niceness=args.worker_niceness, offline=args.offline)
    return run(mode, [Path(f) for f in args.tenant_file])


def cmd_serve(args: argparse.Namespace) -> int:
    from clawgate.local.dev import Mode, run

    mode = Mode("serve", workers=args.workers, worker_niceness=args.worker_niceness, host=args.host)
    return run(mode, [Path(f) for f in args.tenant_file])


def cmd_demo(args: argparse.Namespace) -> int:
    from clawgate.local.demo import play, wait_until_idle
    from clawgate.local.dev import DEV_DEFAULTS
    from clawgate.settings import get_settings

    settings = get_settings()
    url = args.url or f"http://127.0.0.1:{settings.port}"
    secret = settings.meta_app_secret or DEV_DEFAULTS["CLAWGATE_META_APP_SECRET"]
    statuses = play(url, secret, args.phone_number_id)
    if any(status != 200 for status in statuses):
        print(f"error: the runtime at {url} answered {statuses}; is `make dev` running?", file=sys.stderr)
        return 1
    idle = wait_until_idle(url)
    print(
        "clawgate demo: a Click-to-WhatsApp conversation (ad referral, three messages, a booking) was played"
        + ("" if idle else " (the runtime is still working on it)")
    )
    print("open the sign-in link `make dev` printed: Dialogs, Leads, CAPI and Metrics show it")
    return 0 if idle else 1


def _worker_niceness(command: argparse.ArgumentParser) -> None:
    from clawgate.local.workers import WORKER_NICENESS

    command.add_argument(
        "--worker-niceness", type=int, default=WORKER_NICENESS, metavar="N",
        help=f"the worker processes' nice increment (default {WORKER_NICENESS}): webhooks are acknowledged first",
    )  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="clawgate", description="Clawgate: AI agents for every client of an agency")
    remote = parser.add_argument_group("a deployed system (before the command; see docs/deploy.md)")
    remote.add_argument("--aws", action="store_true", help="run the command in AWS, through the admin function")
    remote.add_argument("--profile", help="AWS profile (CLAWGATE_AWS_PROFILE sets it and implies --aws)")
    remote.add_argument("--region", help="AWS region (default: the profile's)")
    commands = parser.add_subparsers(dest="command", required=True)

    dev = commands.add_parser("dev", help="run the local runtime on 127.0.0.1:8787 (CLAWGATE_PORT)")
    dev.add_argument("--tenant-file", action="append", default=[], help="apply this tenant file first (repeatable)")
    dev.add_argument("--offline", action="store_true", help="use the loopback fakes instead of Meta/Telegram/model")
    dev.add_argument("--workers", type=int, default=1, help="worker processes for the queues (0: in this process)")
    _worker_niceness(dev)
    dev.set_defaults(run=cmd_dev)

    serve = commands.add_parser(
        "serve", help="run one production host (CLAWGATE_DATABASE_URL; see docs/single-host.md)"
    )
    serve.add_argument("--tenant-file", action="append", default=[], help="apply this tenant file first (repeatable)")
    serve.add_argument("--workers", type=int, default=2, help="worker processes for the queues (0: in this process)")
    _worker_niceness(serve)
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: loopback, behind a proxy)")
    serve.set_defaults(run=cmd_serve)

    demo = commands.add_parser("demo", help="play a Click-to-WhatsApp conversation into a running `make dev`")
    demo.add_argument("--url", help="the runtime (default http://127.0.0.1:CLAWGATE_PORT)")
    demo.add_argument("--phone-number-id", default="106540352242922", help="the demo tenant's WhatsApp number id")
    demo.set_defaults(run=cmd_demo)

    tenants = commands.add_parser("tenants", help="apply and list tenants").add_subparsers(dest="sub", required=True)
    apply = tenants.add_parser("apply", help="create or update a tenant from its file")
    apply.add_argument("file", type=Path)
    apply.set_defaults(run=cmd_tenants_apply)
    tenants.add_parser("list", help="list tenants").set_defaults(run=cmd_tenants_list)

    tokens = commands.add_parser("tokens", help="gateway tokens").add_subparsers(dest="sub", required=True)
    create = tokens.add_parser("create", help="create a gateway token; prints it alone on standard output")
    create.add_argument("tenant")
    create.add_argument("--label")
    create.set_defaults(run=cmd_tokens_create)
    listing = tokens.add_parser("list", help="a tenant's tokens (never the tokens themselves)")
    listing.add_argument("tenant")
    listing.set_defaults(run=cmd_tokens_list)
    revoke = tokens.add_parser("revoke", help="revoke a token and close the control-plane sockets it opened")
    revoke.add_argument("tenant")
    revoke.add_argument("id", type=int)
    revoke.set_defaults(run=cmd_tokens_revoke)

    agent = commands.add_parser("agent", help="run one turn of an agent and print the reply")
    agent.add_argument("--tenant", required=True)
    agent.add_argument("--agent", required=True)
    agent.add_argument("--message", required=True)
    agent.add_argument("--session", help="continue this session (default: the CLI's own)")
    agent.set_defaults(run=cmd_agent)

    turns = commands.add_parser("turns", help="agent turns").add_subparsers(dest="sub", required=True)
    replay = turns.add_parser("replay", help="re-drive a failed turn")
    replay.add_argument("turn_id", type=int)
    replay.add_argument("--tenant", required=True)
    replay.set_defaults(run=cmd_turns_replay)

    db = commands.add_parser("db", help="database").add_subparsers(dest="sub", required=True)
    db.add_parser("upgrade", help="bring the registry and every tenant schema up to date").set_defaults(
        run=cmd_db_upgrade
    )
    from clawgate.cli.channels import register as register_channels
    from clawgate.cli.meta import register as register_meta

    register_channels(commands)
    from clawgate.cli.jobs import register as register_jobs

    register_jobs(commands)
    from clawgate.cli.chat import register as register_chat
    from clawgate.cli.gateway import register as register_devices

    register_devices(commands)
    register_chat(commands)
    register_meta(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from clawgate.cli.admin import RemoteError, split_remote

    try:
        remote, argv = split_remote(sys.argv[1:] if argv is None else argv)
        if remote.get("--aws"):
            return _remote(argv, remote)
    except RemoteError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    args = build_parser().parse_args(argv)
    run: Command = args.run
    try:
        return run(args)
    except TenantFileError as error:
        print(error, file=sys.stderr)
        return 2
    except (LookupError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


def _remote(argv: list[str], options: dict[str, str | bool]) -> int:
    """The command run by the admin function in AWS, its output printed here."""
    from clawgate.cli.admin import invoke

    profile, region = options.get("--profile"), options.get("--region")
    result = invoke(argv, profile=str(profile) if profile else None, region=str(region) if region else None)
    sys.stdout.write(result.stdout)
    sys.stderr.write(result.stderr)
    return result.exit_code
