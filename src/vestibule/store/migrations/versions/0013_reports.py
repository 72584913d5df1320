"""IAM reports and account settings: credential reports, report jobs (service last accessed, Organizations
access), last access per principal, service and action, and per-account settings (the STS global endpoint's
token version)

Revision ID: 0013
Revises: 0012
"""
import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'credential_reports',
        sa.Column('account_id', sa.String(length=12), nullable=False),
        sa.Column('content', sa.Text(), nullable=True),
        sa.Column('generated_at', sa.Float(), nullable=True),
        sa.Column('generating_since', sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('account_id'),
    )
    op.create_table(
        'report_jobs',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('account_id', sa.String(length=12), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('subject', sa.String(length=2048), nullable=False),
        sa.Column('granularity', sa.String(length=16), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('created_at', sa.Float(), nullable=False),
        sa.Column('completed_at', sa.Float(), nullable=True),
        sa.Column('result', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('report_jobs', schema=None) as batch_op:
        batch_op.create_index('ix_report_jobs_account_created', ['account_id', 'created_at'], unique=False)
    op.create_table(
        'service_last_accessed',
        sa.Column('principal_key', sa.String(length=40), nullable=False),
        sa.Column('service', sa.String(length=64), nullable=False),
        sa.Column('action', sa.String(length=128), nullable=False),
        sa.Column('account_id', sa.String(length=12), nullable=False),
        sa.Column('last_at', sa.Float(), nullable=False),
        sa.Column('region', sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint('principal_key', 'service', 'action'),
    )
    with op.batch_alter_table('service_last_accessed', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_last_accessed_account_id'), ['account_id'], unique=False)
    op.create_table(
        'account_settings',
        sa.Column('account_id', sa.String(length=12), nullable=False),
        sa.Column('global_endpoint_token_version', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('account_id'),
    )


def downgrade() -> None:
    op.drop_table('account_settings')
    with op.batch_alter_table('service_last_accessed', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_service_last_accessed_account_id'))
    op.drop_table('service_last_accessed')
    with op.batch_alter_table('report_jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_report_jobs_account_created')
    op.drop_table('report_jobs')
    op.drop_table('credential_reports')
