"""one-time use of SAML assertion IDs (issue 12; reserved)

Revision ID: 0033
Revises: 0032
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = '0033'
down_revision = '0032'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
