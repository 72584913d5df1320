"""Stable import path for the IAM and STS repositories (they live in `store/sql/`)."""

from .sql import AccessKeys, Groups, Policies, Roles, Tags, TemporaryCredentials, VirtualMfa

__all__ = ["AccessKeys", "Groups", "Policies", "Roles", "Tags", "TemporaryCredentials", "VirtualMfa"]
