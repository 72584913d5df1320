"""federation endpoint sign-in tokens (issue 12; reserved)

Revision ID: 0034
Revises: 0033
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = '0034'
down_revision = '0033'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
