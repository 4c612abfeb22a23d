"""Alembic environment: the URL and connection come from restoreproof, never from an alembic.ini."""

from alembic import context

from orchestrator.db.models import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
