"""IAM outbound web identity federation: turning JWT vending (STS GetWebIdentityToken) on and off, and its issuer."""

from __future__ import annotations

from ....services import outbound_federation
from ..request import QueryRequest
from ..xml import Result
from .table import IAM


@IAM.operation("EnableOutboundWebIdentityFederation", action="iam:EnableOutboundWebIdentityFederation",
               audit="EnableOutboundWebIdentityFederation")
async def enable_outbound_web_identity_federation(q: QueryRequest) -> Result:
    return {"IssuerIdentifier": await outbound_federation.enable(q.call)}


@IAM.operation("DisableOutboundWebIdentityFederation", action="iam:DisableOutboundWebIdentityFederation",
               audit="DisableOutboundWebIdentityFederation")
async def disable_outbound_web_identity_federation(q: QueryRequest) -> Result:
    await outbound_federation.disable(q.call)
    return None


@IAM.operation("GetOutboundWebIdentityFederationInfo", action="iam:GetOutboundWebIdentityFederationInfo")
async def get_outbound_web_identity_federation_info(q: QueryRequest) -> Result:
    issuer, enabled = await outbound_federation.info(q.call)
    return {"IssuerIdentifier": issuer, "JwtVendingEnabled": enabled}
