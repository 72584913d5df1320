"""console sign-in with an OIDC provider (issue 12): the "Sign in with ..." buttons of an account's IAM sign-in
page, each an IAM OIDC provider of the account with the client ID (and sealed client secret) Vestibule uses there

Revision ID: 0035
Revises: 0034
"""
import sqlalchemy as sa
from alembic import op

revision = '0035'
down_revision = '0034'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'console_oidc_logins',
        sa.Column('id', sa.String(length=24), nullable=False),
        sa.Column('account_id', sa.String(length=12), nullable=False),
        sa.Column('provider_arn', sa.String(length=512), nullable=False),
        sa.Column('client_id', sa.String(length=255), nullable=False),
        sa.Column('client_secret_sealed', sa.Text(), nullable=True),
        sa.Column('label', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('account_id', 'provider_arn', name='uq_console_oidc_logins_provider'),
    )


def downgrade() -> None:
    op.drop_table('console_oidc_logins')
