"""permissions boundaries of IAM users and roles (the ARN of a managed policy, built-in or the account's), and
the source identity of STS role sessions (it persists across chained sessions)

Revision ID: 0011
Revises: 0010
"""
import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('iam_users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('permissions_boundary', sa.String(length=600), nullable=True))
        batch_op.create_index(batch_op.f('ix_iam_users_permissions_boundary'), ['permissions_boundary'],
                              unique=False)
    with op.batch_alter_table('iam_roles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('permissions_boundary', sa.String(length=600), nullable=True))
        batch_op.create_index(batch_op.f('ix_iam_roles_permissions_boundary'), ['permissions_boundary'],
                              unique=False)
    with op.batch_alter_table('temporary_credentials', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source_identity', sa.String(length=256), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('temporary_credentials', schema=None) as batch_op:
        batch_op.drop_column('source_identity')
    with op.batch_alter_table('iam_roles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_iam_roles_permissions_boundary'))
        batch_op.drop_column('permissions_boundary')
    with op.batch_alter_table('iam_users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_iam_users_permissions_boundary'))
        batch_op.drop_column('permissions_boundary')
