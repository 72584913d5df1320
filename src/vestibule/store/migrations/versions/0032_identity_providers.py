"""IAM OIDC and SAML identity providers (issue 12; reserved for the providers helper)

Revision ID: 0032
Revises: 0031
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = '0032'
down_revision = '0031'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
