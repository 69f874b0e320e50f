"""Who connects to PostgreSQL, and with what credentials.

Four kinds of login, none of which can do what the next one up does:

- the **admin** login (Aurora's master user; locally the embedded server's superuser, or CLAWGATE_DATABASE_URL) is
  used only by `bootstrap` to create the two logins below and harden the database;
- the **owner** login `clawgate_owner` (CREATEROLE, owns every schema) runs migrations and provisioning;
- the **app** login `clawgate_app` (NOINHERIT, no CREATEROLE) serves every handler from the pool: it acts only
  through `SET LOCAL ROLE` into the gateway role (the registry, table by table) or a tenant's roles;
- one **query** login per tenant, `tenant_<slug>_query`, member of nothing, SELECT on its own schema only: the
  model's `db_query` SQL runs on a connection of its own logged in as it (clawgate.db.readonly).

Locally every password derives from the admin URL, so nothing needs configuring. In AWS the owner and app logins
each have a Secrets Manager secret (username, password, host, port, dbname: the RDS secret shape, which RDS Proxy
serves as one auth entry each), and the query logins' passwords derive from one key secret
(CLAWGATE_DATABASE_QUERY_KEY); query connections go straight to the cluster (CLAWGATE_DATABASE_QUERY_HOST), not
through the proxy, which would need a secret per tenant.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Literal
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

from clawgate.db.names import APP_LOGIN, OWNER_ROLE, query_login
from clawgate.settings import get_settings

OWNER_LOGIN = OWNER_ROLE
Login = Literal["owner", "app"]
LOGIN_NAMES: dict[Login, str] = {"owner": OWNER_LOGIN, "app": APP_LOGIN}


class DatabaseNotConfiguredError(RuntimeError):
    pass


@dataclass(frozen=True)
class Endpoint:
    """Where a server is, without whom to log in as."""

    host: str
    port: str
    dbname: str
    params: tuple[tuple[str, str], ...] = ()

    def url(self, user: str, password: str) -> str:
        netloc = f"{quote(user, safe='')}:{quote(password, safe='')}@{self.host}"
        if self.port:
            netloc += f":{self.port}"
        return urlunsplit(("postgresql", netloc, f"/{self.dbname}", urlencode(self.params), ""))


def _split(url: str) -> tuple[str, str, Endpoint]:
    parts = urlsplit(url)
    path, params = parts.path.lstrip("/"), tuple(parse_qsl(parts.query))
    endpoint = Endpoint(parts.hostname or "", str(parts.port or ""), path, params)
    return unquote(parts.username or ""), unquote(parts.password or ""), endpoint


def admin_url() -> str | None:
    """The master login, where this process has it: locally always, in AWS only the migrator."""
    settings = get_settings()
    if settings.database_url:
        return settings.database_url
    if settings.database_secret_arn:
        return _url_from_secret(settings.database_secret_arn)
    return None


def login_url(login: Login) -> str:
    settings = get_settings()
    if settings.database_url:
        _, _, endpoint = _split(settings.database_url)
        return endpoint.url(LOGIN_NAMES[login], derived_password(LOGIN_NAMES[login]))
    arn = settings.database_owner_secret_arn if login == "owner" else settings.database_app_secret_arn
    if not arn:
        raise DatabaseNotConfiguredError(
            f"set CLAWGATE_DATABASE_URL locally, or CLAWGATE_DATABASE_{login.upper()}_SECRET_ARN in AWS"
        )
    return _url_from_secret(arn)


def query_url(slug: str) -> str:
    """The tenant's query login, on the cluster itself (never the proxy)."""
    settings = get_settings()
    role = query_login(slug)
    if settings.database_url:
        _, _, endpoint = _split(settings.database_url)
    else:
        _, _, endpoint = _split(login_url("app"))
        if settings.database_query_host:
            endpoint = Endpoint(settings.database_query_host, endpoint.port, endpoint.dbname, endpoint.params)
    return endpoint.url(role, derived_password(role))


def derived_password(role: str) -> str:
    digest = hmac.new(_login_key(), role.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _login_key() -> bytes:
    """Locally: the admin URL's login and server (not the database: roles are per server). In AWS: the query key."""
    settings = get_settings()
    if settings.database_url:
        user, password, endpoint = _split(settings.database_url)
        return hashlib.sha256(f"clawgate-logins:{user}:{password}@{endpoint.host}:{endpoint.port}".encode()).digest()
    if not settings.database_query_key:
        raise DatabaseNotConfiguredError("set CLAWGATE_DATABASE_QUERY_KEY (a secret: reference) for db_query")
    from clawgate.secrets import resolve

    return resolve(settings.database_query_key).encode()


def _secret(arn: str) -> dict[str, str]:
    from aws_lambda_powertools.utilities import parameters

    value: dict[str, str] = json.loads(str(parameters.get_secret(arn, max_age=3600)))
    return value


def login_password(login: Login) -> str:
    """What bootstrap sets as the login's password: derived locally, the login's own secret in AWS."""
    settings = get_settings()
    if settings.database_url:
        return derived_password(LOGIN_NAMES[login])
    arn = settings.database_owner_secret_arn if login == "owner" else settings.database_app_secret_arn
    if not arn:
        raise DatabaseNotConfiguredError(f"set CLAWGATE_DATABASE_{login.upper()}_SECRET_ARN")
    return _secret(arn)["password"]


def _url_from_secret(arn: str) -> str:
    secret = _secret(arn)
    host = get_settings().database_host or secret["host"]
    port, dbname = str(secret.get("port", 5432)), secret.get("dbname", "clawgate")
    endpoint = Endpoint(host, port, dbname, (("sslmode", "require"),))
    return endpoint.url(secret["username"], secret["password"])
