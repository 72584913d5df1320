"""IAM OIDC and SAML identity providers (issue 12): oidc_providers unique by (account, URL), saml_providers unique
by (account, name), both unique by ARN

Revision ID: 0032
Revises: 0031
"""
import sqlalchemy as sa
from alembic import op

revision = '0032'
down_revision = '0031'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('oidc_providers',
    sa.Column('id', sa.String(length=24), nullable=False),
    sa.Column('account_id', sa.String(length=12), nullable=False),
    sa.Column('url', sa.String(length=255), nullable=False),
    sa.Column('issuer', sa.String(length=300), nullable=False),
    sa.Column('arn', sa.String(length=2048), nullable=False),
    sa.Column('client_ids', sa.JSON(), nullable=False),
    sa.Column('thumbprints', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('account_id', 'url', name='uq_oidc_providers_account_url'),
    sa.UniqueConstraint('arn')
    )
    with op.batch_alter_table('oidc_providers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_oidc_providers_account_id'), ['account_id'], unique=False)
    op.create_table('saml_providers',
    sa.Column('id', sa.String(length=24), nullable=False),
    sa.Column('account_id', sa.String(length=12), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('arn', sa.String(length=2048), nullable=False),
    sa.Column('metadata', sa.Text(), nullable=False),
    sa.Column('uuid', sa.String(length=64), nullable=False),
    sa.Column('entity_id', sa.String(length=1024), nullable=False),
    sa.Column('valid_until', sa.Float(), nullable=True),
    sa.Column('assertion_encryption_mode', sa.String(length=16), nullable=True),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.Column('updated_at', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('account_id', 'name', name='uq_saml_providers_account_name'),
    sa.UniqueConstraint('arn')
    )
    with op.batch_alter_table('saml_providers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_saml_providers_account_id'), ['account_id'], unique=False)


def downgrade() -> None:
    op.drop_table('saml_providers')
    op.drop_table('oidc_providers')
