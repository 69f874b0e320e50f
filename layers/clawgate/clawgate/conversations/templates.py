"""The cache of the WhatsApp Business Account's message templates (`whatsapp_templates`), filled from Graph by
`channels.whatsapp_templates.sync`. Only APPROVED templates are offered and sent."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from pydantic import BaseModel

from clawgate.db import Conn, tenant_tx

_PLACEHOLDER = re.compile(r"\{\{\s*(\w+)\s*\}\}")


class Template(BaseModel):
    waba_id: str
    name: str
    language: str
    status: str
    category: str | None
    components: list[dict[str, Any]]
    synced_at: datetime

    @property
    def body(self) -> str:
        return next((str(c.get("text", "")) for c in self.components if str(c.get("type")).upper() == "BODY"), "")

    @property
    def parameter_count(self) -> int:
        return len(set(_PLACEHOLDER.findall(self.body)))

    def render(self, parameters: list[str]) -> str:
        """The body as the customer reads it: {{1}}, {{2}}… replaced in order."""
        values = iter(parameters)
        return _PLACEHOLDER.sub(lambda m: next(values, m.group(0)), self.body)

    def summary(self) -> dict[str, Any]:
        return {"name": self.name, "language": self.language, "category": self.category, "body": self.body,
                "parameters": self.parameter_count}  # fmt: skip


def replace_all(conn: Conn, waba_id: str, templates: list[dict[str, Any]]) -> None:
    """The WABA's templates as Graph listed them just now (a template deleted at Meta disappears here too)."""
    conn.execute("DELETE FROM whatsapp_templates WHERE waba_id = %s", (waba_id,))
    for t in templates:
        conn.execute(
            "INSERT INTO whatsapp_templates (waba_id, name, language, status, category, components)"
            " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (waba_id, name, language) DO NOTHING",
            (waba_id, str(t.get("name", "")), str(t.get("language", "")), str(t.get("status", "")), t.get("category"),
             Jsonb(t.get("components") or [])),
        )  # fmt: skip


def cached(tenant: str, *, approved_only: bool = True) -> list[Template]:
    with tenant_tx(tenant, "ro") as conn, conn.cursor(row_factory=dict_row) as cursor:
        rows = cursor.execute("SELECT * FROM whatsapp_templates ORDER BY name, language").fetchall()
    return [t for t in (Template(**row) for row in rows) if t.status == "APPROVED" or not approved_only]


def find(tenant: str, name: str, language: str) -> Template | None:
    return next((t for t in cached(tenant) if t.name == name and t.language == language), None)
