"""indexes for the janitor: expiry columns of sessions, recovery tokens, CAPTCHAs and throttle counters

Revision ID: 0003
Revises: 0002
"""
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

_INDEXES = [
    ("sessions", "expires_at"),
    ("sessions", "revoked_at"),
    ("recovery_tokens", "expires_at"),
    ("captchas", "expires_at"),
    ("throttle_counters", "last_failure_at"),
]


def upgrade() -> None:
    for table, column in _INDEXES:
        op.create_index(f"ix_{table}_{column}", table, [column], unique=False)


def downgrade() -> None:
    for table, column in reversed(_INDEXES):
        op.drop_index(f"ix_{table}_{column}", table_name=table)
