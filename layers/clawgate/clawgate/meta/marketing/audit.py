"""Who asked for a write and why: every Marketing API write (and every refusal) is an `audit_log` row with the
agent, channel, peer and turn that asked (or the job), the action, the target object and the stated reason."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from clawgate.db import Conn
from clawgate.meta.marketing.data import audit_log


@dataclass(frozen=True)
class Actor:
    """An agent turn (agent_id, channel, peer, turn), a job (`job` set), or an operator pressing a button in Telegram
    or the control UI (`operator` set: who, e.g. `telegram:123456789` or `device:<id>`)."""

    agent_id: str | None = None
    channel: str | None = None
    peer_id: str | None = None
    account_id: str | None = None
    turn_id: int | None = None
    job: str | None = None
    operator: str | None = None

    @property
    def label(self) -> str:
        if self.operator:
            return f"operator:{self.operator}"
        return f"job:{self.job}" if self.job else f"agent:{self.agent_id}"

    @property
    def scheduled(self) -> bool:
        """A turn or job no person asked for just now: it may propose spending, never apply it."""
        return self.job is not None or self.channel == "schedule"

    def details(self) -> dict[str, Any]:
        return {key: value for key, value in asdict(self).items() if value is not None}


def record(
    conn: Conn, actor: Actor, action: str, target: str | None, reason: str, details: dict[str, Any] | None = None
) -> int:
    by = {"by": actor.details(), **(details or {})}
    return audit_log.insert(conn, actor.label, action, target, reason, by, actor.turn_id)
