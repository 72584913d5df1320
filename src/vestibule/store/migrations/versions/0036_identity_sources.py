"""Identity Center identity sources, LDAP and external SAML (issue 12; reserved)

Revision ID: 0036
Revises: 0035
"""
import sqlalchemy as sa
from alembic import op

revision = '0036'
down_revision = '0035'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'sso_identity_sources',
        sa.Column('instance_arn', sa.String(length=64), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('settings', sa.Text(), nullable=False),
        sa.Column('secret_sealed', sa.Text(), nullable=True),
        sa.Column('updated_at', sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(['instance_arn'], ['sso_instances.arn'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('instance_arn'),
    )


def downgrade() -> None:
    op.drop_table('sso_identity_sources')
