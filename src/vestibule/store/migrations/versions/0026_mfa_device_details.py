"""MFA device details for the console's Security credentials page: a label the owner gives the device (shown
instead of the name in its serial, which stays), when it last accepted a code, and its clock's drift in TOTP
steps as the last resync measured it

Revision ID: 0026
Revises: 0025
"""
import sqlalchemy as sa
from alembic import op

revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('mfa_devices', schema=None) as batch_op:
        batch_op.add_column(sa.Column('label', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('last_used_at', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('drift_steps', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('mfa_devices', schema=None) as batch_op:
        batch_op.drop_column('drift_steps')
        batch_op.drop_column('last_used_at')
        batch_op.drop_column('label')
