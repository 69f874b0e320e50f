"""Clawgate: a multi-tenant AI-agent gateway. Logic lives here, organised by domain; functions/ only delegate."""
