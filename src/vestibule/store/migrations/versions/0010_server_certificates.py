"""server certificates: certificate and chain per account, unique by name (the private key is not kept)

Revision ID: 0010
Revises: 0009
"""
import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('server_certificates',
    sa.Column('id', sa.String(length=24), nullable=False),
    sa.Column('account_id', sa.String(length=12), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('name_lower', sa.String(length=128), nullable=False),
    sa.Column('path', sa.String(length=512), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('chain', sa.Text(), nullable=True),
    sa.Column('expires_at', sa.Float(), nullable=False),
    sa.Column('uploaded_at', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('account_id', 'name_lower', name='uq_server_certificates_account_name')
    )
    with op.batch_alter_table('server_certificates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_server_certificates_account_id'), ['account_id'], unique=False)


def downgrade() -> None:
    op.drop_table('server_certificates')
