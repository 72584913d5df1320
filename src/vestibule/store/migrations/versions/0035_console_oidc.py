"""console sign-in with an OIDC provider (issue 12; reserved)

Revision ID: 0035
Revises: 0034
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = '0035'
down_revision = '0034'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
