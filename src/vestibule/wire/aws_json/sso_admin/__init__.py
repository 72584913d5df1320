"""SSO Admin (`SWBExternalService.*`): Identity Center instances, permission sets, account assignments."""

from __future__ import annotations

from . import instances
from .table import SSO_ADMIN

__all__ = ["SSO_ADMIN", "instances"]
