"""deletion tasks of IAM service-linked roles (DeleteServiceLinkedRole / GetServiceLinkedRoleDeletionStatus)

Revision ID: 0012
Revises: 0011
"""
import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'service_linked_role_deletions',
        sa.Column('id', sa.String(length=1000), nullable=False),
        sa.Column('account_id', sa.String(length=12), nullable=False),
        sa.Column('role_name', sa.String(length=64), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.Column('created_at', sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('service_linked_role_deletions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_linked_role_deletions_account_id'), ['account_id'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('service_linked_role_deletions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_service_linked_role_deletions_account_id'))
    op.drop_table('service_linked_role_deletions')
