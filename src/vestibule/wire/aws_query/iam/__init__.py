"""IAM over the query protocol: one module per area, all rows in one table."""

from __future__ import annotations

from . import (  # noqa: F401
    access_keys,
    account,
    account_settings,
    groups,
    identity_providers,
    instance_profiles,
    last_accessed,
    login_profiles,
    mfa_devices,
    outbound_federation,
    policies,
    reports,
    roles,
    server_certificates,
    service_credentials,
    service_linked_roles,
    signing_certificates,
    simulation,
    ssh_keys,
    users,
)
from .table import IAM

__all__ = ["IAM"]
