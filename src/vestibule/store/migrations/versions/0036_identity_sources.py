"""Identity Center identity sources, LDAP and external SAML (issue 12; reserved)

Revision ID: 0036
Revises: 0035
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = '0036'
down_revision = '0035'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
