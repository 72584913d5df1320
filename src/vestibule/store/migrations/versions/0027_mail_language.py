"""the language each principal gets mail in (mail_languages: one row per principal that chose one; none: en)

Revision ID: 0027
Revises: 0026
"""
import sqlalchemy as sa
from alembic import op

revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'mail_languages',
        sa.Column('principal_key', sa.String(length=80), nullable=False),
        sa.Column('language', sa.String(length=8), nullable=False),
        sa.Column('updated_at', sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint('principal_key'),
    )


def downgrade() -> None:
    op.drop_table('mail_languages')
