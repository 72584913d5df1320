"""one-time use of SAML assertion IDs (issue 12; reserved)

Revision ID: 0033
Revises: 0032
"""
import sqlalchemy as sa
from alembic import op

revision = '0033'
down_revision = '0032'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'saml_assertion_uses',
        sa.Column('id_hash', sa.String(length=64), nullable=False),
        sa.Column('expires_at', sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint('id_hash'),
    )
    op.create_index('ix_saml_assertion_uses_expires_at', 'saml_assertion_uses', ['expires_at'])


def downgrade() -> None:
    op.drop_index('ix_saml_assertion_uses_expires_at', table_name='saml_assertion_uses')
    op.drop_table('saml_assertion_uses')
