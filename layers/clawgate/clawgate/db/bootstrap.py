"""What only the admin (master) login does: create the owner and app logins and harden the database.

Run by `ensure_platform` wherever the admin login is known (locally always; in AWS the migrator, with the master
secret). Idempotent and cheap to repeat; once per database per process.
"""

from __future__ import annotations

import threading

import psycopg
from psycopg import sql

from clawgate.db.logins import admin_url, login_password
from clawgate.db.names import APP_LOGIN, GATEWAY_ROLE, OWNER_ROLE
from clawgate.db.types import Conn
from clawgate.observability import logger

ident = sql.Identifier

# Catalog relations that list other tenants' schemas, tables, roles or sessions. PUBLIC loses SELECT on them; the
# owner and app logins keep it. information_schema stays: its views show only what the reader has privileges on.
LISTING_CATALOGS = (
    "pg_namespace", "pg_class", "pg_type", "pg_attribute", "pg_proc", "pg_constraint", "pg_index", "pg_depend",
    "pg_description", "pg_trigger", "pg_policy", "pg_rewrite", "pg_default_acl", "pg_init_privs", "pg_sequence",
    "pg_roles", "pg_user", "pg_group", "pg_auth_members", "pg_db_role_setting", "pg_shdepend", "pg_shdescription",
    "pg_tables", "pg_views", "pg_matviews", "pg_indexes", "pg_sequences", "pg_policies", "pg_rules", "pg_locks",
    "pg_stat_activity", "pg_stat_all_tables", "pg_stat_user_tables", "pg_stat_sys_tables", "pg_statio_all_tables",
    "pg_statio_user_tables", "pg_stat_all_indexes", "pg_stat_user_indexes", "pg_statio_all_indexes",
    "pg_statio_user_indexes", "pg_statio_all_sequences", "pg_statio_user_sequences", "pg_stat_xact_all_tables",
    "pg_stat_xact_user_tables", "pg_stat_user_functions", "pg_stat_xact_user_functions", "pg_stats",
)  # fmt: skip
# Functions that name other sessions' users.
LISTING_FUNCTIONS = ("pg_stat_get_activity(integer)", "pg_get_userbyid(oid)")

_done: set[str] = set()
_lock = threading.Lock()


def bootstrap() -> bool:
    """Create or update the logins and harden this database; False where the admin login is not known here."""
    url = admin_url()
    if url is None:
        return False
    with _lock:
        if url in _done:
            return True
        with psycopg.connect(url, autocommit=True, prepare_threshold=None, connect_timeout=10) as conn:
            _ensure_logins(conn)
            _adopt_existing_roles(conn)
            _harden_database(conn)
        _done.add(url)
    return True


def _ensure_logins(conn: Conn) -> None:
    logins = {
        OWNER_ROLE: (login_password("owner"), sql.SQL("LOGIN CREATEROLE NOCREATEDB NOINHERIT")),
        APP_LOGIN: (login_password("app"), sql.SQL("LOGIN NOCREATEROLE NOCREATEDB NOINHERIT")),
    }
    for name, (password, attributes) in logins.items():
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,)).fetchone()
        verb = sql.SQL("ALTER ROLE") if exists else sql.SQL("CREATE ROLE")
        try:
            conn.execute(
                sql.SQL("{} {} WITH {} PASSWORD {}").format(verb, ident(name), attributes, sql.Literal(password))
            )
        except psycopg.errors.DuplicateObject:  # another process created it meanwhile
            conn.execute(
                sql.SQL("ALTER ROLE {} WITH {} PASSWORD {}").format(ident(name), attributes, sql.Literal(password))
            )
        conn.execute(sql.SQL("ALTER ROLE {} SET search_path = pg_catalog, pg_temp").format(ident(name)))


def _adopt_existing_roles(conn: Conn) -> None:
    """Roles the admin login created before the owner login existed: the owner administers them from now on."""
    rows = conn.execute(
        "SELECT r.rolname FROM pg_roles r WHERE (r.rolname = %s OR r.rolname ~ '^tenant_[a-z0-9_]+_(rw|ro|query)$')"
        " AND NOT EXISTS (SELECT 1 FROM pg_auth_members m WHERE m.roleid = r.oid AND m.admin_option"
        "                 AND m.member = (SELECT oid FROM pg_roles WHERE rolname = %s))",
        (GATEWAY_ROLE, OWNER_ROLE),
    ).fetchall()
    for (role,) in rows:
        conn.execute(
            sql.SQL("GRANT {} TO {} WITH ADMIN OPTION, INHERIT FALSE, SET FALSE").format(ident(role), ident(OWNER_ROLE))
        )


def _harden_database(conn: Conn) -> None:
    database = ident(conn.info.dbname)
    trusted = sql.SQL(", ").join([ident(OWNER_ROLE), ident(APP_LOGIN)])
    statements: list[sql.Composed | sql.SQL] = [
        sql.SQL("GRANT CONNECT, CREATE ON DATABASE {} TO {}").format(database, ident(OWNER_ROLE)),
        sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(database, ident(APP_LOGIN)),
        # Temporary tables shadow real ones (pg_temp is searched first unless listed) and outlive a transaction.
        sql.SQL("REVOKE TEMPORARY ON DATABASE {} FROM PUBLIC").format(database),
        sql.SQL("REVOKE CREATE ON SCHEMA public FROM PUBLIC"),
    ]
    for catalog in LISTING_CATALOGS:
        name = sql.SQL("pg_catalog.{}").format(ident(catalog))
        statements += [
            sql.SQL("REVOKE SELECT ON {} FROM PUBLIC").format(name),
            sql.SQL("GRANT SELECT ON {} TO {}").format(name, trusted),
        ]
    for function in LISTING_FUNCTIONS:
        statements += [
            sql.SQL("REVOKE EXECUTE ON FUNCTION pg_catalog.{} FROM PUBLIC").format(sql.SQL(function)),
            sql.SQL("GRANT EXECUTE ON FUNCTION pg_catalog.{} TO {}").format(sql.SQL(function), trusted),
        ]
    with conn.transaction():
        for statement in statements:
            conn.execute(statement)
    probe = conn.execute(  # grantee 0 is PUBLIC
        "SELECT count(*) FROM pg_class c, aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) a"
        " WHERE c.oid = 'pg_catalog.pg_namespace'::regclass AND a.grantee = 0 AND a.privilege_type = 'SELECT'"
    ).fetchone()
    if probe and probe[0]:  # e.g. Aurora: the catalogs belong to rdsadmin, whom the master user cannot overrule
        logger.warning("the catalogs stay readable by every login: their owner is not the admin login")
