"""membership sort keys (issue 14): the join tables carry the member's sort key, so a page of a group's members,
of a policy's entities or of a role's instance profiles is read from an index in key order (no sort of every
member before LIMIT): group_memberships.user_name_lower, policy_attachments.target_name_lower (kept by renames),
and the indexes the pages seek in

Revision ID: 0031
Revises: 0030
"""
import sqlalchemy as sa
from alembic import op

revision = '0031'
down_revision = '0030'
branch_labels = None
depends_on = None

# (index name, table, columns): each a keyset page's WHERE equalities, then its sort key
_INDEXES = [
    ("ix_group_memberships_group_name", "group_memberships", ["group_id", "user_name_lower", "user_id"]),
    ("ix_policy_attachments_policy_name", "policy_attachments",
     ["policy_arn", "account_id", "target_kind", "target_name_lower", "target_id"]),
    ("ix_instance_profiles_role_name", "instance_profiles", ["role_id", "name_lower", "id"]),
    ("ix_iam_users_boundary_name", "iam_users", ["permissions_boundary", "account_id", "name_lower", "id"]),
    ("ix_iam_roles_boundary_name", "iam_roles", ["permissions_boundary", "account_id", "name_lower", "id"]),
    ("ix_mfa_devices_account_serial", "mfa_devices", ["account_id", "serial"]),
    ("ix_service_specific_credentials_account_created", "service_specific_credentials",
     ["account_id", "created_at", "id"]),
]


def upgrade() -> None:
    with op.batch_alter_table('group_memberships', schema=None) as batch_op:
        batch_op.add_column(sa.Column('user_name_lower', sa.String(length=64), nullable=True))
    with op.batch_alter_table('policy_attachments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('target_name_lower', sa.String(length=128), nullable=True))
    op.execute("UPDATE group_memberships SET user_name_lower = COALESCE("
               "(SELECT u.name_lower FROM iam_users u WHERE u.id = group_memberships.user_id), '')")
    op.execute("UPDATE policy_attachments SET target_name_lower = COALESCE(CASE target_kind "
               "WHEN 'user' THEN (SELECT u.name_lower FROM iam_users u WHERE u.id = policy_attachments.target_id) "
               "WHEN 'group' THEN (SELECT g.name_lower FROM iam_groups g WHERE g.id = policy_attachments.target_id) "
               "WHEN 'role' THEN (SELECT r.name_lower FROM iam_roles r WHERE r.id = policy_attachments.target_id) "
               "END, '')")
    with op.batch_alter_table('group_memberships', schema=None) as batch_op:
        batch_op.alter_column('user_name_lower', existing_type=sa.String(length=64), nullable=False)
    with op.batch_alter_table('policy_attachments', schema=None) as batch_op:
        batch_op.alter_column('target_name_lower', existing_type=sa.String(length=128), nullable=False)
    for name, table, columns in _INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade() -> None:
    for name, table, _columns in reversed(_INDEXES):
        op.drop_index(name, table_name=table)
    with op.batch_alter_table('policy_attachments', schema=None) as batch_op:
        batch_op.drop_column('target_name_lower')
    with op.batch_alter_table('group_memberships', schema=None) as batch_op:
        batch_op.drop_column('user_name_lower')
