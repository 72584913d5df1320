"""scale (issue 14): maintained IAM entity counts, indexes for retention and the janitor

Revision ID: 0030
Revises: 0029
"""
import sqlalchemy as sa
from alembic import op

revision = '0030'
down_revision = '0029'
branch_labels = None
depends_on = None

# (kind, the account's rows of that kind as `a` = account ID, `n` = count)
_COUNTED = [
    ("users", "SELECT account_id AS a, count(*) AS n FROM iam_users GROUP BY account_id"),
    ("groups", "SELECT account_id AS a, count(*) AS n FROM iam_groups GROUP BY account_id"),
    ("roles", "SELECT account_id AS a, count(*) AS n FROM iam_roles GROUP BY account_id"),
    ("policies", "SELECT account_id AS a, count(*) AS n FROM managed_policies GROUP BY account_id"),
    ("policy_versions", "SELECT p.account_id AS a, count(*) AS n FROM managed_policy_versions v "
                        "JOIN managed_policies p ON p.arn = v.policy_arn GROUP BY p.account_id"),
    ("instance_profiles", "SELECT account_id AS a, count(*) AS n FROM instance_profiles GROUP BY account_id"),
]

# (index name, table, columns)
_INDEXES = [
    ("ix_audit_events_at", "audit_events", ["at", "id"]),  # retention and archive: the oldest events first
    ("ix_mail_outbox_claim", "mail_outbox", ["claim"]),  # the sender reads back the rows it claimed
    # a member's groups in group order (ListGroupMembershipsForMember pages, group_ids_of_user)
    ("ix_directory_memberships_user_group", "directory_memberships", ["user_id", "group_id"]),
    # the portal's page of accounts, ListAccountAssignmentsForPrincipal: a principal's assignments by account
    ("ix_sso_assignments_principal_account", "sso_assignments", ["instance_arn", "principal_id", "account_id"]),
    # ListPermissionSetsProvisionedToAccount in permission-set order
    ("ix_sso_provisionings_account_set", "sso_provisionings", ["account_id", "permission_set_arn"]),
    # `vestibule events --account` pages by (at, id) (PostgreSQL sorted each run of equal `at`)
    ("ix_audit_events_account_at_id", "audit_events", ["account_id", "at", "id"]),
    # a personal profile's events (`profile/<id>`: no account): its data export and its deletion's pseudonyms
    ("ix_audit_events_principal_at", "audit_events", ["principal", "at", "id"]),
    # P4: PathPrefix lists read the prefix's range of paths (keyset.starts_with as a range), not the whole account
    ("ix_iam_users_account_path", "iam_users", ["account_id", "path", "name_lower", "id"]),
    ("ix_iam_groups_account_path", "iam_groups", ["account_id", "path", "name_lower", "id"]),
    ("ix_iam_roles_account_path", "iam_roles", ["account_id", "path", "name_lower", "id"]),
    ("ix_managed_policies_account_path", "managed_policies", ["account_id", "path", "name", "id"]),
]

# (index name, table, columns) replaced by a longer one above, back on downgrade
_REPLACED = [
    ("ix_sso_assignments_principal", "sso_assignments", ["instance_arn", "principal_id"]),
    ("ix_audit_events_account_at", "audit_events", ["account_id", "at"]),
]


def upgrade() -> None:
    op.create_table(
        'iam_entity_counts',
        sa.Column('account_id', sa.String(length=12), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('account_id', 'kind'),
    )
    for kind, counted in _COUNTED:
        op.execute(f"INSERT INTO iam_entity_counts (account_id, kind, n) SELECT q.a, '{kind}', q.n FROM ({counted}) q")
    for name, table, columns in _INDEXES:
        op.create_index(name, table, columns, unique=False)
    for name, table, _columns in _REPLACED:
        op.drop_index(name, table_name=table)


def downgrade() -> None:
    for name, table, columns in reversed(_REPLACED):
        op.create_index(name, table, columns, unique=False)
    for name, table, _columns in reversed(_INDEXES):
        op.drop_index(name, table_name=table)
    op.drop_table('iam_entity_counts')
