"""Runs and their check results.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("uid", sa.String(32), nullable=False, unique=True),
        sa.Column("job", sa.String(200), nullable=False, index=True),
        sa.Column("status", sa.String(20), nullable=False, index=True),
        sa.Column("reason", sa.String(60)),
        sa.Column("message", sa.Text()),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("snapshot_id", sa.String(64)),
        sa.Column("snapshot_time", sa.DateTime(timezone=True)),
        sa.Column("snapshot_seen_at", sa.DateTime(timezone=True)),
        sa.Column("snapshot_host", sa.String(255)),
        sa.Column("snapshot_paths", sa.JSON()),
        sa.Column("snapshot_tags", sa.JSON()),
        sa.Column("snapshot_age_seconds", sa.Float()),
        sa.Column("repository_id", sa.String(64)),
        sa.Column("repository_backend", sa.String(20)),
        sa.Column("repository_location", sa.Text()),
        sa.Column("restore_seconds", sa.Float()),
        sa.Column("checks_seconds", sa.Float()),
        sa.Column("boot_seconds", sa.Float()),
        sa.Column("total_seconds", sa.Float()),
        sa.Column("expected_bytes", sa.BigInteger()),
        sa.Column("bytes_restored", sa.BigInteger()),
        sa.Column("files_restored", sa.Integer()),
        sa.Column("rto_seconds", sa.Float()),
        sa.Column("rpo_seconds", sa.Float()),
        sa.Column("versions", sa.JSON()),
        sa.Column("sandbox", sa.JSON()),
        sa.Column("log_tail", sa.Text()),
    )
    op.create_table(
        "check_results",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("run_id", sa.Integer(), sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("data", sa.JSON()),
        sa.Column("seconds", sa.Float()),
    )


def downgrade() -> None:
    op.drop_table("check_results")
    op.drop_table("runs")
