"""Tenants: the tenant file, provisioning (`clawgate tenants apply`), the registry and gateway tokens."""
