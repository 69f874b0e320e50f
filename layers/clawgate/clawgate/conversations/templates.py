"""The WhatsApp Business Account's message templates, cached by `channels.whatsapp_templates.sync` (rows in
`conversations/data/templates.py`). Only APPROVED templates are offered and sent."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from clawgate.conversations.data.templates import all_templates
from clawgate.db import tenant_tx

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


def cached(tenant: str, *, approved_only: bool = True) -> list[Template]:
    with tenant_tx(tenant, "ro") as conn:
        rows = all_templates(conn)
    return [t for t in (Template(**row) for row in rows) if t.status == "APPROVED" or not approved_only]


def find(tenant: str, name: str, language: str) -> Template | None:
    return next((t for t in cached(tenant) if t.name == name and t.language == language), None)
