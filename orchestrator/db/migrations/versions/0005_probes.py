"""Repository location facts on runs, and the rotating read-data check's position.

Revision ID: 0005
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("repository_host", sa.String(255)))
        batch.add_column(sa.Column("repository_region", sa.String(64)))
        batch.add_column(sa.Column("repository_offsite", sa.Boolean()))
        batch.add_column(sa.Column("repository_facts", sa.JSON()))
    op.create_table(
        "read_data_rotations",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("job", sa.String(200), nullable=False, index=True),
        sa.Column("repository_id", sa.String(64), nullable=False),
        sa.Column("subsets", sa.Integer(), nullable=False),
        sa.Column("next_subset", sa.Integer(), nullable=False),
        sa.Column("cycle", sa.Integer(), nullable=False),
        sa.Column("checked", sa.JSON(), nullable=False),
        sa.Column("cycle_started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_full_pass_at", sa.DateTime(timezone=True)),
        sa.Column("last_run_id", sa.Integer()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("job", "repository_id", name="uq_read_data_rotations_job_repository"),
    )


def downgrade() -> None:
    op.drop_table("read_data_rotations")
    with op.batch_alter_table("runs") as batch:
        for name in ("repository_facts", "repository_offsite", "repository_region", "repository_host"):
            batch.drop_column(name)
