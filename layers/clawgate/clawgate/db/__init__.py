"""PostgreSQL: the logins, the connection pool, role-scoped transactions and migrations."""

from clawgate.db.pool import close_pool, get_pool
from clawgate.db.tx import owner_connection, owner_tx, registry_tx, tenant_tx
from clawgate.db.types import Conn

__all__ = ["Conn", "close_pool", "get_pool", "owner_connection", "owner_tx", "registry_tx", "tenant_tx"]
