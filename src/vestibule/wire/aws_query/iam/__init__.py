"""IAM over the query protocol: one module per area, all rows in one table."""

from __future__ import annotations

from . import access_keys, account, groups, login_profiles, mfa_devices, policies, roles, users  # noqa: F401
from .table import IAM

__all__ = ["IAM"]
