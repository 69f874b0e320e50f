"""Tenancy's data-access layer: the registry's rows (tenants, channel accounts, gateway tokens, WebSocket
connections) and what provisioning writes into a tenant's schema. Each function takes a `clawgate.db.Conn`."""
