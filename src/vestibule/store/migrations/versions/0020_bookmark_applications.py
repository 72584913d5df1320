"""Identity Center bookmark applications and their assignments to directory users and groups

Revision ID: 0020
Revises: 0019
"""
import sqlalchemy as sa
from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'sso_applications',
        sa.Column('id', sa.String(length=20), nullable=False),
        sa.Column('instance_arn', sa.String(length=64), nullable=False),
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('url', sa.String(length=2048), nullable=False),
        sa.Column('description', sa.String(length=1024), nullable=True),
        sa.Column('created_at', sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(['instance_arn'], ['sso_instances.arn'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_sso_applications_instance_arn', 'sso_applications', ['instance_arn'])
    op.create_table(
        'sso_application_assignments',
        sa.Column('application_id', sa.String(length=20), nullable=False),
        sa.Column('principal_type', sa.String(length=8), nullable=False),
        sa.Column('principal_id', sa.String(length=47), nullable=False),
        sa.Column('created_at', sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(['application_id'], ['sso_applications.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('application_id', 'principal_type', 'principal_id'),
    )
    op.create_index('ix_sso_application_assignments_principal_id', 'sso_application_assignments',
                    ['principal_id'])


def downgrade() -> None:
    op.drop_index('ix_sso_application_assignments_principal_id', table_name='sso_application_assignments')
    op.drop_table('sso_application_assignments')
    op.drop_index('ix_sso_applications_instance_arn', table_name='sso_applications')
    op.drop_table('sso_applications')
