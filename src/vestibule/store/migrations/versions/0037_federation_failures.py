"""federated sign-in failures by reference ID (issue 12): what `vestibule federation diagnose` reads, kept as
long as audit events

Revision ID: 0037
Revises: 0036
"""
import sqlalchemy as sa
from alembic import op

revision = '0037'
down_revision = '0036'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'federation_failures',
        sa.Column('reference', sa.String(length=24), nullable=False),
        sa.Column('at', sa.Float(), nullable=False),
        sa.Column('account_id', sa.String(length=12), nullable=True),
        sa.Column('door', sa.String(length=32), nullable=False),
        sa.Column('cause', sa.String(length=32), nullable=False),
        sa.Column('provider', sa.String(length=2048), nullable=False),
        sa.Column('detail', sa.JSON(), nullable=False),
        sa.Column('expires_at', sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint('reference'),
    )
    op.create_index('ix_federation_failures_expires_at', 'federation_failures', ['expires_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_federation_failures_expires_at', table_name='federation_failures')
    op.drop_table('federation_failures')
