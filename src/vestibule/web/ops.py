"""The operator's endpoints: `/readyz` (for load balancers: no authentication, nothing sensitive) and
`/metrics` (Prometheus text format, for the addresses of VESTIBULE_METRICS_ADDRESSES or a bearer token)."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from ..services import metrics
from ..services.health import Health
from ..settings import Settings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_NO_STORE = {"cache-control": "no-store"}


def _digest(value: str) -> bytes:
    return hashlib.sha256(value.encode("utf-8", "surrogateescape")).digest()


@dataclass(frozen=True)
class Ops:
    health: Health
    networks: tuple[Network, ...]
    token_digest: bytes | None  # SHA-256 of the metrics token (compared in constant time), None: no token

    @classmethod
    def build(cls, health: Health, settings: Settings) -> Ops:
        networks = tuple(ipaddress.ip_network(cidr, strict=False) for cidr in settings.metrics_addresses)
        return cls(health, networks, _digest(settings.metrics_token) if settings.metrics_token else None)

    def may_read_metrics(self, client_host: str | None, authorization: str) -> bool:
        if client_host and self._listed(client_host):
            return True
        scheme, _, token = authorization.partition(" ")
        if self.token_digest is None or scheme.lower() != "bearer" or not token.strip():
            return False
        return hmac.compare_digest(_digest(token.strip()), self.token_digest)

    def _listed(self, host: str) -> bool:
        try:
            address = ipaddress.ip_address(host.split("%", 1)[0])
        except ValueError:
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return any(address in network for network in self.networks)


def _ops(request: Request) -> Ops:
    ops = request.app.state.ops
    assert isinstance(ops, Ops)
    return ops


async def _readyz(request: Request) -> Response:
    readiness = await _ops(request).health.readiness()
    return JSONResponse(readiness.as_json(), status_code=200 if readiness.ready else 503, headers=_NO_STORE)


async def _metrics(request: Request) -> Response:
    ops = _ops(request)
    client = request.client.host if request.client is not None else None
    if not ops.may_read_metrics(client, request.headers.get("authorization", "")):
        return PlainTextResponse("Forbidden: /metrics is served to the addresses of VESTIBULE_METRICS_ADDRESSES "
                                 "or with the metrics bearer token.\n", status_code=403, headers=_NO_STORE)
    body, content_type = metrics.exposition(await ops.health.snapshot(), request.headers.get("accept", ""))
    return Response(body, headers={"content-type": content_type, **_NO_STORE})


routes = [
    Route("/readyz", _readyz, methods=["GET"]),
    Route("/metrics", _metrics, methods=["GET"]),
]
