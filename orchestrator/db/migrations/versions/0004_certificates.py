"""Issued certificates, and the hash chain over finished runs.

Revision ID: 0004
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "certificates",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("sequence", sa.Integer(), nullable=False, unique=True),
        sa.Column("month", sa.String(7), nullable=False, index=True),
        sa.Column("language", sa.String(5), nullable=False),
        sa.Column("organisation", sa.Text(), nullable=False),
        sa.Column("trigger", sa.String(20), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("key_fingerprint", sa.String(64), nullable=False),
        sa.Column("statement_sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("previous_sha256", sa.String(64)),
        sa.Column("pdf_sha256", sa.String(64), nullable=False),
        sa.Column("html_sha256", sa.String(64), nullable=False),
        sa.Column("evidence_sha256", sa.String(64), nullable=False),
        sa.Column("run_chain_sequence", sa.Integer()),
        sa.Column("run_chain_hash", sa.String(64)),
        sa.Column("directory", sa.Text(), nullable=False),
    )
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("chain_sequence", sa.Integer()))
        batch.add_column(sa.Column("chain_previous_hash", sa.String(64)))
        batch.add_column(sa.Column("chain_hash", sa.String(64)))
        batch.create_index("ix_runs_chain_sequence", ["chain_sequence"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.drop_index("ix_runs_chain_sequence")
        batch.drop_column("chain_hash")
        batch.drop_column("chain_previous_hash")
        batch.drop_column("chain_sequence")
    op.drop_table("certificates")
