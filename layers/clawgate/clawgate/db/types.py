"""The one connection type the data-access modules take: a psycopg connection inside a role-scoped transaction
(`tenant_tx`, `registry_tx`, `owner_tx`). Rows come back as tuples unless a query asks for `class_row`/`kwargs_row`."""

from __future__ import annotations

from psycopg import Connection
from psycopg.rows import TupleRow

Conn = Connection[TupleRow]
