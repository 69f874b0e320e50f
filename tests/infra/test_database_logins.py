"""Each database login's secret reaches only the functions that log in as it (clawgate/db/logins.py): the master
secret the migrator alone (bootstrap), the owner's the migrator, the provisioner and the admin function (minting
gateway tokens is the owner's), the app login's every function
with database access, the query key those that create or use the tenants' query logins; RDS Proxy serves the
master, owner and app logins."""

from __future__ import annotations

import json

import pytest
from clawgate.db.names import APP_LOGIN, OWNER_ROLE

from infra.constructs.database import QUERY_KEY_REFERENCE
from infra.function_settings import settings_for
from infra.nag import logical_id
from tests.infra.conftest import Synthesized
from tests.infra.test_function_access import environment, granted, statements_of

pytestmark = pytest.mark.infra


def readable(synthesized: Synthesized, function: str) -> str:
    return json.dumps(granted(statements_of(synthesized, function), "secretsmanager:GetSecretValue"))


def test_each_login_secret_reaches_only_its_users(synthesized: Synthesized) -> None:
    platform = synthesized.built.platform
    database = platform.database
    master = platform.resolve(database.secret.secret_arn)["Ref"]  # the secret as attached to the cluster
    for name in platform.functions.by_name:
        text, settings = readable(synthesized, name), settings_for(name)
        reads = {
            "master": master in text,
            "owner": logical_id(database.owner_secret) in text,
            "app": logical_id(database.app_secret) in text,
            "query": logical_id(database.query_key) in text,
        }
        expected = {
            "master": name == "db_migrator",
            "owner": name in ("db_migrator", "tenant_provisioner", "admin"),  # admin: tokens create
            "app": settings.database,
            "query": name in ("db_migrator", "tenant_provisioner", "turn_run_tool"),
        }
        assert reads == expected, name
        variables = environment(synthesized, name)
        assert ("CLAWGATE_DATABASE_SECRET_ARN" in variables) == expected["master"], name
        assert (variables.get("CLAWGATE_DATABASE_QUERY_KEY") == QUERY_KEY_REFERENCE) == expected["query"], name


def test_the_logins_are_named_as_the_code_names_them_and_kept_with_the_cluster(synthesized: Synthesized) -> None:
    resources = synthesized.template_json(synthesized.built.platform)["Resources"]
    database = synthesized.built.platform.database
    for secret, login in ((database.owner_secret, OWNER_ROLE), (database.app_secret, APP_LOGIN)):
        resource = resources[logical_id(secret)]
        template = json.loads(resource["Properties"]["GenerateSecretString"]["SecretStringTemplate"])
        assert template == {"username": login}
        assert resource["DeletionPolicy"] == "RetainExceptOnCreate"


def test_the_proxy_serves_the_master_owner_and_app_logins(synthesized: Synthesized) -> None:
    resources = synthesized.template_json(synthesized.built.platform)["Resources"]
    (proxy,) = [r for r in resources.values() if r["Type"] == "AWS::RDS::DBProxy"]
    auth = json.dumps(proxy["Properties"]["Auth"])
    database = synthesized.built.platform.database
    for secret in (database.owner_secret, database.app_secret):
        assert logical_id(secret) in auth
    assert len(proxy["Properties"]["Auth"]) == 3


def test_db_query_connects_to_the_cluster_itself(synthesized: Synthesized) -> None:
    variables = environment(synthesized, "turn_run_tool")
    cluster = logical_id(synthesized.built.platform.database.cluster)
    assert variables["CLAWGATE_DATABASE_QUERY_HOST"] == {"Fn::GetAtt": [cluster, "Endpoint.Address"]}
