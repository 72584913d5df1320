"""membership sort keys (reserved for issue 14: group_memberships and similar join tables keep the member's sort key for keyset pages)

Revision ID: 0031
Revises: 0030
"""

revision = '0031'
down_revision = '0030'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
