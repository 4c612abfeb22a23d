"""Join the area branches; record the newest matching snapshot's age (the RPO is about it).

Revision ID: 0006
Revises: 0002, 0003, 0004, 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = ("0002", "0003", "0004", "0005")
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("newest_snapshot_age_seconds", sa.Float()))


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("newest_snapshot_age_seconds")
