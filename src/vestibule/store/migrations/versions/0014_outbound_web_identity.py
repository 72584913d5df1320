"""outbound web identity federation per account: its issuer, whether JWT vending is on, its signing keys
(RS256 and ES384, private keys sealed under the master key)

Revision ID: 0014
Revises: 0013
"""
import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'outbound_web_identity',
        sa.Column('account_id', sa.String(length=12), nullable=False),
        sa.Column('issuer_id', sa.String(length=36), nullable=False),
        sa.Column('enabled', sa.Boolean(), nullable=False),
        sa.Column('rsa_kid', sa.String(length=64), nullable=False),
        sa.Column('rsa_key_sealed', sa.Text(), nullable=False),
        sa.Column('ec_kid', sa.String(length=64), nullable=False),
        sa.Column('ec_key_sealed', sa.Text(), nullable=False),
        sa.Column('created_at', sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('account_id'),
        sa.UniqueConstraint('issuer_id', name='uq_outbound_web_identity_issuer'),
    )


def downgrade() -> None:
    op.drop_table('outbound_web_identity')
