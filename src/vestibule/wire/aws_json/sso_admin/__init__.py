"""SSO Admin (`SWBExternalService.*`): Identity Center instances, permission sets, account assignments."""

from __future__ import annotations

from . import assignments, instances, permission_sets
from .table import SSO_ADMIN

__all__ = ["SSO_ADMIN", "assignments", "instances", "permission_sets"]
