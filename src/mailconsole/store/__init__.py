"""Persistence: models, the async engine and session factory, migrations, secrets at rest."""
