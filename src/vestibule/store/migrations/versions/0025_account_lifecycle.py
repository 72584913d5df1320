"""closed and suspended accounts: when and why (account_lifecycle), and the pending code that confirms a
closure when the root user has no MFA

Revision ID: 0025
Revises: 0024
"""
import sqlalchemy as sa
from alembic import op

revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'account_lifecycle',
        sa.Column('account_id', sa.String(length=12), nullable=False),
        sa.Column('closed_at', sa.Float(), nullable=True),
        sa.Column('suspended_at', sa.Float(), nullable=True),
        sa.Column('suspension_reason', sa.Text(), nullable=True),
        sa.Column('suspension_contact', sa.String(length=254), nullable=True),
        sa.Column('closure_code_hash', sa.String(length=64), nullable=True),
        sa.Column('closure_code_expires_at', sa.Float(), nullable=True),
        sa.Column('closure_code_session', sa.String(length=64), nullable=True),
        sa.Column('closure_code_attempts', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('account_id'),
    )


def downgrade() -> None:
    op.drop_table('account_lifecycle')
