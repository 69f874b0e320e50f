"""`clawgate devices list [--tenant T] [--status S]`, `clawgate devices approve DEVICE --tenant T` and
`clawgate devices revoke DEVICE --tenant T`: the control UI's devices (a revoked device is refused on its next
frame)."""

from __future__ import annotations

import argparse
from typing import Any


def _database() -> None:
    from clawgate.cli.environment import database

    database()


def cmd_list(args: argparse.Namespace) -> int:
    from clawgate.db import registry_tx
    from clawgate.gateway.data.devices import list_devices

    _database()
    with registry_tx() as conn:
        found = list_devices(conn, args.tenant, args.status)
    for device in found:
        seen = device.last_seen_at.isoformat(timespec="seconds") if device.last_seen_at else "-"
        print(f"{device.tenant}\t{device.device_id}\t{device.status}\t{device.name or '-'}\tlast seen {seen}")
    return 0


def _set(args: argparse.Namespace, status: Any) -> int:
    from clawgate.db import registry_tx
    from clawgate.gateway.data.devices import set_status

    _database()
    with registry_tx() as conn:
        device = set_status(conn, args.tenant, args.device, status)
    print(f"device {device.device_id} of tenant {device.tenant}: {device.status}")
    return 0


def cmd_approve(args: argparse.Namespace) -> int:
    return _set(args, "approved")


def cmd_revoke(args: argparse.Namespace) -> int:
    return _set(args, "revoked")


def register(commands: Any) -> None:
    """Add `devices` to the `clawgate` parser's subcommands."""
    devices = commands.add_parser("devices", help="control-UI devices").add_subparsers(dest="sub", required=True)
    listing = devices.add_parser("list", help="devices and their status")
    listing.add_argument("--tenant")
    listing.add_argument("--status", choices=["pending", "approved", "revoked"])
    listing.set_defaults(run=cmd_list)
    for name, run, help_text in (("approve", cmd_approve, "let a pending device in"),
                                 ("revoke", cmd_revoke, "shut a device out")):  # fmt: skip
        command = devices.add_parser(name, help=help_text)
        command.add_argument("device")
        command.add_argument("--tenant", required=True)
        command.set_defaults(run=run)
