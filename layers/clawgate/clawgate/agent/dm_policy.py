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

from clawgate.agent.data import pairing
from clawgate.agent.data.pairing import PendingCode, Sender
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
    sender = Sender(tenant_slug, account.channel, account.account_id, _peer(message))
    with registry_tx() as conn:
        if pairing.is_paired(conn, sender):
            return Admission(True, reason="paired")
        code = pairing.open_code(conn, sender)
        created = code is None
        code = code or _new_code(conn, sender)
    if created:
        _tell_operator(tenant_slug, account, message, code)
    return Admission(False, notice=pairing_notice(code), reason="pairing: code issued" if created else "pairing")


def _new_code(conn: Conn, sender: Sender) -> str:
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if pairing.insert_code(conn, code, sender, CODE_TTL):
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


def approve(code: str) -> Sender:
    """Approve a pending, unexpired code (the sender it was for); raise PairingCodeError saying why not otherwise."""
    code = code.strip().upper()
    with registry_tx() as conn:
        approved = pairing.approve(conn, code)
        if approved:
            return approved
        was_approved = pairing.was_approved(conn, code)
    if was_approved is None:
        raise PairingCodeError(f"no pairing code {code}")
    raise PairingCodeError(f"pairing code {code} " + ("was already approved" if was_approved else "expired"))


def pending(tenant_slug: str | None = None) -> list[PendingCode]:
    """Unexpired, unapproved codes, oldest first."""
    with registry_tx() as conn:
        return pairing.pending(conn, tenant_slug)
