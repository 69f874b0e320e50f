"""Tenancy's data-access layer: the registry's rows (tenants, channel accounts, gateway tokens, WebSocket
connections), what provisioning writes into a tenant's schema, and a tenant's settings (`config`). Each function
takes a `clawgate.db.Conn`."""
