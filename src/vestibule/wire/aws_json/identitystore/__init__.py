"""Identity Store (`AWSIdentityStore.*`): the Identity Center directory's users, groups and memberships."""

from __future__ import annotations

from . import groups, memberships, users
from .table import IDENTITY_STORE

__all__ = ["IDENTITY_STORE", "groups", "memberships", "users"]
