"""managed policy versions: every version of a customer managed policy (up to 5), and how many were ever created
(version IDs are never reused); managed_policies.document stays the default version's document

Revision ID: 0008
Revises: 0007
"""
import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('managed_policy_versions',
    sa.Column('policy_arn', sa.String(length=600), nullable=False),
    sa.Column('version_id', sa.String(length=8), nullable=False),
    sa.Column('document', sa.Text(), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['policy_arn'], ['managed_policies.arn'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('policy_arn', 'version_id')
    )
    with op.batch_alter_table('managed_policies', schema=None) as batch_op:
        batch_op.add_column(sa.Column('versions_created', sa.Integer(), server_default='1', nullable=False))
    op.execute("INSERT INTO managed_policy_versions (policy_arn, version_id, document, created_at) "
               "SELECT arn, default_version, document, created_at FROM managed_policies")


def downgrade() -> None:
    with op.batch_alter_table('managed_policies', schema=None) as batch_op:
        batch_op.drop_column('versions_created')
    op.drop_table('managed_policy_versions')
