"""IAM operations over the query protocol; importing registers them."""

from . import account, groups, keys, login_profiles, mfa, policies, roles, users  # noqa: F401
