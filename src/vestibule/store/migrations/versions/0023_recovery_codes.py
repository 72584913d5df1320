"""lost root MFA: one-time recovery codes (issue 13), stored as SHA-256, one row per code

Revision ID: 0023
Revises: 0022
"""
import sqlalchemy as sa
from alembic import op

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'recovery_codes',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('account_id', sa.String(length=12), nullable=False),
        sa.Column('principal_key', sa.String(length=40), nullable=False),
        sa.Column('code_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.Float(), nullable=False),
        sa.Column('used_at', sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('code_hash'),
    )
    op.create_index('ix_recovery_codes_account_id', 'recovery_codes', ['account_id'])
    op.create_index('ix_recovery_codes_principal_key', 'recovery_codes', ['principal_key'])


def downgrade() -> None:
    op.drop_index('ix_recovery_codes_principal_key', table_name='recovery_codes')
    op.drop_index('ix_recovery_codes_account_id', table_name='recovery_codes')
    op.drop_table('recovery_codes')
