"""session re-authentication: when the password was last confirmed in a session, and in which browser
(credential changes need it)

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reauthenticated_at', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('reauthenticated_browser', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.drop_column('reauthenticated_browser')
        batch_op.drop_column('reauthenticated_at')
