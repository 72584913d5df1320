"""console credentials for the command line (`vestibule login`): session kind and public ID, login sessions'
data, authorization requests and codes, refresh tokens, the DPoP jti replay cache, and the login session of
temporary credentials

Revision ID: 0022
Revises: 0021
"""
import sqlalchemy as sa
from alembic import op

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=8), server_default='console', nullable=False))
        batch_op.add_column(sa.Column('public_id', sa.String(length=32), nullable=True))
        batch_op.create_index('ix_sessions_public_id', ['public_id'], unique=True)
    with op.batch_alter_table('temporary_credentials', schema=None) as batch_op:
        batch_op.add_column(sa.Column('login_session_hash', sa.String(length=64), nullable=True))
        batch_op.create_index('ix_temporary_credentials_login_session_hash', ['login_session_hash'])
    op.create_table(
        'cli_login_grants',
        sa.Column('id', sa.String(length=64), nullable=False),
        sa.Column('client_id', sa.String(length=64), nullable=False),
        sa.Column('redirect_uri', sa.String(length=2048), nullable=False),
        sa.Column('state', sa.String(length=2048), nullable=False),
        sa.Column('code_challenge', sa.String(length=64), nullable=False),
        sa.Column('status', sa.String(length=8), nullable=False),
        sa.Column('code_hash', sa.String(length=64), nullable=True),
        sa.Column('approved_session_hash', sa.String(length=64), nullable=True),
        sa.Column('principal_key', sa.String(length=40), nullable=True),
        sa.Column('account_id', sa.String(length=12), nullable=True),
        sa.Column('session_hash', sa.String(length=64), nullable=True),
        sa.Column('requested_from_ip', sa.String(length=64), nullable=False),
        sa.Column('requested_at', sa.Float(), nullable=False),
        sa.Column('expires_at', sa.Float(), nullable=False),
        sa.Column('decided_at', sa.Float(), nullable=True),
        sa.Column('used_at', sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('code_hash'),
    )
    op.create_index('ix_cli_login_grants_expires_at', 'cli_login_grants', ['expires_at'])
    op.create_table(
        'cli_logins',
        sa.Column('session_hash', sa.String(length=64), nullable=False),
        sa.Column('client_id', sa.String(length=64), nullable=False),
        sa.Column('dpop_jkt', sa.String(length=64), nullable=False),
        sa.Column('approved_session_hash', sa.String(length=64), nullable=False),
        sa.Column('region', sa.String(length=32), nullable=False),
        sa.Column('created_at', sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint('session_hash'),
    )
    op.create_table(
        'cli_login_refresh_tokens',
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('session_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.Float(), nullable=False),
        sa.Column('used_at', sa.Float(), nullable=True),
        sa.Column('expires_at', sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint('token_hash'),
    )
    op.create_index('ix_cli_login_refresh_tokens_session_hash', 'cli_login_refresh_tokens', ['session_hash'])
    op.create_index('ix_cli_login_refresh_tokens_expires_at', 'cli_login_refresh_tokens', ['expires_at'])
    op.create_table(
        'dpop_replays',
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('expires_at', sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint('key'),
    )
    op.create_index('ix_dpop_replays_expires_at', 'dpop_replays', ['expires_at'])


def downgrade() -> None:
    op.drop_index('ix_dpop_replays_expires_at', table_name='dpop_replays')
    op.drop_table('dpop_replays')
    op.drop_index('ix_cli_login_refresh_tokens_expires_at', table_name='cli_login_refresh_tokens')
    op.drop_index('ix_cli_login_refresh_tokens_session_hash', table_name='cli_login_refresh_tokens')
    op.drop_table('cli_login_refresh_tokens')
    op.drop_table('cli_logins')
    op.drop_index('ix_cli_login_grants_expires_at', table_name='cli_login_grants')
    op.drop_table('cli_login_grants')
    with op.batch_alter_table('temporary_credentials', schema=None) as batch_op:
        batch_op.drop_index('ix_temporary_credentials_login_session_hash')
        batch_op.drop_column('login_session_hash')
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.drop_index('ix_sessions_public_id')
        batch_op.drop_column('public_id')
        batch_op.drop_column('kind')
