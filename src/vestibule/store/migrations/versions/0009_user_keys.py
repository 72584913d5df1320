"""per-user SSH public keys, signing certificates and service-specific credentials

Revision ID: 0009
Revises: 0008
"""
import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ssh_public_keys',
    sa.Column('id', sa.String(length=24), nullable=False),
    sa.Column('account_id', sa.String(length=12), nullable=False),
    sa.Column('principal_key', sa.String(length=40), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('fingerprint', sa.String(length=48), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('uploaded_at', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('principal_key', 'fingerprint', name='uq_ssh_public_keys_principal_fingerprint')
    )
    with op.batch_alter_table('ssh_public_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ssh_public_keys_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ssh_public_keys_principal_key'), ['principal_key'], unique=False)

    op.create_table('signing_certificates',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('account_id', sa.String(length=12), nullable=False),
    sa.Column('principal_key', sa.String(length=40), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('der_sha256', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('uploaded_at', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('account_id', 'der_sha256', name='uq_signing_certificates_account_der')
    )
    with op.batch_alter_table('signing_certificates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_signing_certificates_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_signing_certificates_principal_key'), ['principal_key'], unique=False)

    op.create_table('service_specific_credentials',
    sa.Column('id', sa.String(length=24), nullable=False),
    sa.Column('account_id', sa.String(length=12), nullable=False),
    sa.Column('principal_key', sa.String(length=40), nullable=False),
    sa.Column('service_name', sa.String(length=64), nullable=False),
    sa.Column('service_user_name', sa.String(length=200), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.Column('expires_at', sa.Float(), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('service_specific_credentials', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_specific_credentials_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_service_specific_credentials_principal_key'), ['principal_key'],
                              unique=False)


def downgrade() -> None:
    op.drop_table('service_specific_credentials')
    op.drop_table('signing_certificates')
    op.drop_table('ssh_public_keys')
