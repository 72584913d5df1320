"""session tags of STS temporary credentials (AssumeRole's and GetFederationToken's `Tags`, as JSON pairs) and
the keys of those that are transitive (carried into sessions chained from a role session)

Revision ID: 0015
Revises: 0014
"""
import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('temporary_credentials', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_tags', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('transitive_tag_keys', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('temporary_credentials', schema=None) as batch_op:
        batch_op.drop_column('transitive_tag_keys')
        batch_op.drop_column('session_tags')
