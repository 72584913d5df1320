"""MFA device names and last use (issue 13, helper 5 fills this in)

Revision ID: 0026
Revises: 0025
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
