"""federated sign-in failures by reference ID (issue 12; reserved)

Revision ID: 0037
Revises: 0036
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = '0037'
down_revision = '0036'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
