"""Who may reach an agent through a channel account (`dm_policy` in the tenant file):

- `open`: anyone;
- `allowlist`: the sender (or the group chat) is in `allow_from`; anyone else is ignored without an answer;
- `pairing`: as allowlist, and an unknown sender in a private chat gets a one-time code (valid one hour, stored in
  the registry's `pairing_codes`); nothing reaches the agent until the operator runs `clawgate pairing approve CODE`.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from psycopg.rows import class_row

from clawgate.db import Conn, registry_tx
from clawgate.observability import logger, mask_phone

if TYPE_CHECKING:
    from clawgate.core.channels import InboundMessage
    from clawgate.tenancy.data.registry import ChannelAccount

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
CODE_LENGTH = 8
CODE_TTL = timedelta(hours=1)


@dataclass(frozen=True)
class Admission:
    allowed: bool
    notice: str | None = None  # text to send back to the sender (the pairing code)
    reason: str = ""


@dataclass(frozen=True)
class PairingApproval:
    tenant: str
    channel: str
    account_id: str
    peer_id: str


class PairingCodeError(LookupError):
    pass


def _normalised(value: object) -> str:
    text = str(value).strip()
    return re.sub(r"[\s+()-]", "", text) if re.fullmatch(r"[\d\s+()-]+", text) else text


def identities(message: InboundMessage) -> set[str]:
    """Who the message is from, every way allow_from may name them (user id, BSUID, wa_id, group chat id)."""
    values = {message.sender_id, message.wa_id, message.peer_id}
    return {_normalised(v) for v in values if v}


def is_allowed(account: ChannelAccount, message: InboundMessage) -> bool:
    allowed = {_normalised(v) for v in account.config.get("allow_from") or []}
    return bool(allowed & identities(message))


def admit(tenant_slug: str, account: ChannelAccount, message: InboundMessage) -> Admission:
    policy = account.config.get("dm_policy") or "open"
    if policy == "open":
        return Admission(True, reason="open")
    if is_allowed(account, message):
        return Admission(True, reason="allow_from")
    who = mask_phone(message.sender_id or message.peer_id)
    if policy == "pairing" and not message.is_group:
        return _pairing(tenant_slug, account, message)
    logger.info("dm policy: sender refused", extra={"policy": policy, "account": account.account_id, "sender": who})
    return Admission(False, reason=f"{policy}: not in allow_from")


def _peer(message: InboundMessage) -> str:
    return message.sender_id or message.peer_id


def _pairing(tenant_slug: str, account: ChannelAccount, message: InboundMessage) -> Admission:
    peer = _peer(message)
    key = (tenant_slug, account.channel, account.account_id, peer)
    with registry_tx() as conn:
        where = "tenant_slug = %s AND channel = %s AND account_id = %s AND peer_id = %s"
        if conn.execute(f"SELECT 1 FROM pairing_codes WHERE {where} AND approved_at IS NOT NULL", key).fetchone():
            return Admission(True, reason="paired")
        row = conn.execute(
            f"SELECT code FROM pairing_codes WHERE {where} AND approved_at IS NULL AND expires_at > now()"
            " ORDER BY created_at DESC LIMIT 1",
            key,
        ).fetchone()
        code, created = (row[0], False) if row else (_new_code(conn, key), True)
    if created:
        _tell_operator(tenant_slug, account, message, code)
    return Admission(False, notice=pairing_notice(code), reason="pairing: code issued" if created else "pairing")


def _new_code(conn: Conn, key: tuple[str, str, str, str]) -> str:
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        inserted = conn.execute(
            "INSERT INTO pairing_codes (code, tenant_slug, channel, account_id, peer_id, expires_at)"
            " VALUES (%s, %s, %s, %s, %s, now() + %s) ON CONFLICT (code) DO NOTHING RETURNING code",
            (code, *key, CODE_TTL),
        ).fetchone()
        if inserted:
            return code


def pairing_notice(code: str) -> str:
    return (
        "Hi! This assistant only talks to people its owner has approved.\n"
        f"Your pairing code is {code} (valid for one hour). Send it to the owner, who approves it with:\n"
        f"clawgate pairing approve {code}"
    )


def _tell_operator(tenant_slug: str, account: ChannelAccount, message: InboundMessage, code: str) -> None:
    from clawgate.core.notify import notify_operator

    who = f"{message.sender_name or 'someone'} ({mask_phone(_peer(message))})"
    notify_operator(tenant_slug, f"pairing request on {account.channel} {account.account_id} from {who}: "
                                 f"approve with `clawgate pairing approve {code}`")  # fmt: skip


def approve(code: str) -> PairingApproval:
    """Approve a pending, unexpired code; raise PairingCodeError saying why not otherwise."""
    code = code.strip().upper()
    with registry_tx() as conn:
        approval = (
            conn.cursor(row_factory=class_row(PairingApproval))
            .execute(
                "UPDATE pairing_codes SET approved_at = now() WHERE code = %s AND approved_at IS NULL"
                " AND expires_at > now() RETURNING tenant_slug AS tenant, channel, account_id, peer_id",
                (code,),
            )
            .fetchone()
        )
        if approval:
            return approval
        found = conn.execute("SELECT approved_at IS NOT NULL FROM pairing_codes WHERE code = %s", (code,)).fetchone()
    if found is None:
        raise PairingCodeError(f"no pairing code {code}")
    raise PairingCodeError(f"pairing code {code} was already approved" if found[0] else f"pairing code {code} expired")


def pending(tenant_slug: str | None = None) -> list[tuple[str, str, str, str, str]]:
    """Unexpired, unapproved codes: (code, tenant, channel, account, peer)."""
    with registry_tx() as conn:
        rows = conn.execute(
            "SELECT code, tenant_slug, channel, account_id, peer_id FROM pairing_codes"
            " WHERE approved_at IS NULL AND expires_at > now() AND (%s::text IS NULL OR tenant_slug = %s)"
            " ORDER BY created_at",
            (tenant_slug, tenant_slug),
        ).fetchall()
    return [(str(a), str(b), str(c), str(d), str(e)) for a, b, c, d, e in rows]
