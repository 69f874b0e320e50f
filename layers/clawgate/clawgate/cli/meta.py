"""`clawgate meta ...`: Meta operations an operator runs by hand."""

from __future__ import annotations

import argparse
from typing import Any


def cmd_sync_mapping(args: argparse.Namespace) -> int:
    from clawgate.local.postgres import ensure_database_url
    from clawgate.meta.mapping_sync import sync_mapping

    ensure_database_url()
    result = sync_mapping(args.tenant)
    print(f"tenant {args.tenant}: {result.ads} ads, {result.creatives} creatives mapped;"
          f" {result.backfilled} dialogs/leads attributed now")  # fmt: skip
    return 0


def register(commands: Any) -> None:
    meta = commands.add_parser("meta", help="Meta: ads attribution").add_subparsers(dest="sub", required=True)
    sync = meta.add_parser("sync-mapping", help="read the ad account's ads and creatives into ad_creative_mapping")
    sync.add_argument("--tenant", required=True)
    sync.set_defaults(run=cmd_sync_mapping)
