"""account contact details and root email changes (issue 13, helper 2 fills this in)

Revision ID: 0024
Revises: 0023
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
