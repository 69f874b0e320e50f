"""The building blocks of the platform stack."""
