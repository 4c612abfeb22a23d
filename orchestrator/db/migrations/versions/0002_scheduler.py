"""Scheduler daemon: APScheduler's job store, loaded schedules, missed runs, daemon heartbeats.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Exactly the table APScheduler 3's SQLAlchemyJobStore creates (same types and index name), so the
    # schema is ours to migrate and APScheduler's own create(checkfirst=True) is a no-op.
    op.create_table(
        "apscheduler_jobs",
        sa.Column("id", sa.Unicode(191), primary_key=True),
        sa.Column("next_run_time", sa.Float(25)),
        sa.Column("job_state", sa.LargeBinary(), nullable=False),
    )
    op.create_index("ix_apscheduler_jobs_next_run_time", "apscheduler_jobs", ["next_run_time"])
    op.create_table(
        "scheduler_jobs",
        sa.Column("job", sa.String(200), primary_key=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("scheduled_since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "scheduler_missed_runs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("job", sa.String(200), nullable=False, index=True),
        sa.Column("reason", sa.String(40), nullable=False),
        sa.Column("first_due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "scheduler_daemons",
        sa.Column("owner", sa.String(200), primary_key=True),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stopped_at", sa.DateTime(timezone=True)),
        sa.Column("metrics_address", sa.String(300)),
        sa.Column("reloads", sa.Integer(), nullable=False),
        sa.Column("reload_ok", sa.Boolean()),
        sa.Column("reload_message", sa.Text()),
    )


def downgrade() -> None:
    op.drop_table("scheduler_daemons")
    op.drop_table("scheduler_missed_runs")
    op.drop_table("scheduler_jobs")
    op.drop_index("ix_apscheduler_jobs_next_run_time", table_name="apscheduler_jobs")
    op.drop_table("apscheduler_jobs")
