"""The message templates aggregate: the cache of the WhatsApp Business Account's templates (`whatsapp_templates`),
as Graph listed them at the last sync (`conversations/templates.py` reads them as `Template`s)."""

from __future__ import annotations

from typing import Any

from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from clawgate.db import Conn


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


def all_templates(conn: Conn) -> list[dict[str, Any]]:
    """Every cached template (waba_id, name, language, status, category, components, synced_at), by name."""
    with conn.cursor(row_factory=dict_row) as cursor:
        return cursor.execute(
            "SELECT waba_id, name, language, status, category, components, synced_at FROM whatsapp_templates"
            " ORDER BY name, language"
        ).fetchall()
