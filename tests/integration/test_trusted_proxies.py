"""VESTIBULE_TRUSTED_PROXIES on a live server (real sockets, so the peer address is real): the client address a
trusted proxy reports reaches audit events, the session list, per-address throttling and signed AWS calls; the
same header from an untrusted peer (a client bound to 127.0.0.2) is ignored, and so is the client-written left
part of a chain."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import botocore.config
import httpx
import pytest

from http_steps import ROOT_PASSWORD, iam_password, make_account, make_user, sign_in_iam, start_root
from support import LiveServer, csrf_of, on_live_server, start_live_server, stop_live_server
from vestibule.runtime import Runtime
from vestibule.services import access_keys
from vestibule.services.mail import DevMailbox
from vestibule.settings import Settings
from vestibule.store.models import AuditEvent

WRONG = "not the password 1"


@pytest.fixture
def live(settings: Settings) -> Iterator[LiveServer]:
    server = start_live_server(settings.with_overrides(trusted_proxies=("127.0.0.1/32",)), DevMailbox())
    yield server
    stop_live_server(server)


def _browser(live: LiveServer, *, local_address: str = "127.0.0.1", **headers: str) -> httpx.AsyncClient:
    transport = httpx.AsyncHTTPTransport(local_address=local_address)
    return httpx.AsyncClient(base_url=live.url, transport=transport, headers=headers, follow_redirects=False,
                             timeout=30)


def _events(live: LiveServer, account_id: str) -> list[AuditEvent]:
    async def read() -> list[AuditEvent]:
        async with live.runtime.deps.store.unit() as uow:
            return list(await uow.audit.for_account(account_id))

    return on_live_server(live, read())


def _account_with_user(live: LiveServer) -> str:
    async def make(runtime: Runtime) -> str:
        account_id = await make_account(runtime)
        await make_user(runtime, account_id, "alice")
        return account_id

    return on_live_server(live, make(live.runtime))


async def test_audit_events_and_sessions_name_the_client_the_trusted_proxy_reports(live: LiveServer) -> None:
    account_id = _account_with_user(live)
    # through the proxy: the client wrote 6.6.6.6 itself, the proxy appended the address it saw
    async with _browser(live, **{"X-Forwarded-For": "6.6.6.6, 198.51.100.23"}) as proxied:
        r = await iam_password(proxied, "acme", "alice", WRONG)
        assert r.status_code == 200
        await sign_in_iam(proxied)
        security = await proxied.get("/console/security")
        assert security.status_code == 200
        assert "198.51.100.23" in security.text and "6.6.6.6" not in security.text
    # an untrusted peer's header is ignored
    async with _browser(live, local_address="127.0.0.2", **{"X-Forwarded-For": "198.51.100.99"}) as spoofer:
        assert (await iam_password(spoofer, "acme", "alice", WRONG)).status_code == 200
    # Forwarded (RFC 7239) wins over X-Forwarded-For, IPv6 with a port
    async with _browser(live, Forwarded='for="[2001:db8::7]:4711";proto=https',
                        **{"X-Forwarded-For": "192.0.2.1"}) as ipv6:
        assert (await iam_password(ipv6, "acme", "alice", WRONG)).status_code == 200
    # the proxy itself, with no header: its own address
    async with _browser(live) as plain:
        assert (await iam_password(plain, "acme", "alice", WRONG)).status_code == 200

    signins = [e for e in _events(live, account_id) if e.event == "ConsoleLogin"]
    failures = [e.client_ip for e in signins if e.result != "Success"]
    successes = [e.client_ip for e in signins if e.result == "Success"]
    assert failures == ["198.51.100.23", "127.0.0.2", "2001:db8::7", "127.0.0.1"], signins
    assert successes == ["198.51.100.23"]


async def test_per_address_throttling_counts_each_real_client(live: LiveServer) -> None:
    on_live_server(live, make_account(live.runtime))

    async def fail_once(client: httpx.AsyncClient) -> bool:
        """One wrong password for a new unknown email; whether the password page asked for a CAPTCHA."""
        flow_url = await start_root(client, f"nobody-{uuid.uuid4().hex[:8]}@example.com")
        page = await client.get(flow_url)
        asked = 'name="captcha"' in page.text
        await client.post(flow_url, data={"csrf_token": csrf_of(page.text), "step": "password", "password": WRONG})
        return asked

    async with _browser(live, **{"X-Forwarded-For": "198.51.100.31"}) as attacker:
        asked = [await fail_once(attacker) for _ in range(20)]
        assert not any(asked)
        assert await fail_once(attacker), "20 failures from one address: a CAPTCHA for that address"
    async with _browser(live, **{"X-Forwarded-For": "198.51.100.32"}) as neighbour:
        assert not await fail_once(neighbour), "another client behind the same proxy is not throttled"
    async with _browser(live, **{"X-Forwarded-For": "198.51.100.99, 198.51.100.31"}) as same:
        assert await fail_once(same), "a spoofed left part does not give the attacker a fresh address"


def test_signed_aws_calls_see_the_forwarded_address(live: LiveServer) -> None:
    async def make() -> tuple[str, str, str]:
        account_id = await make_account(live.runtime, password=ROOT_PASSWORD)
        async with live.runtime.deps.store.unit() as uow:
            key = await access_keys.create(live.runtime.deps, uow, account_id, f"root:{account_id}")
        return account_id, key.access_key_id, key.secret_access_key

    account_id, key_id, secret = on_live_server(live, make())
    iam: Any = boto3.session.Session().client(
        "iam", endpoint_url=live.url, region_name="us-east-1", aws_access_key_id=key_id,
        aws_secret_access_key=secret, config=botocore.config.Config(retries={"max_attempts": 1}))

    def forwarded_for(request: Any, **_: Any) -> None:
        request.headers["X-Forwarded-For"] = "203.0.113.77"  # added by the "proxy" after signing

    iam.meta.events.register("before-send.iam.*", forwarded_for)
    iam.create_user(UserName="bob")
    created = [e for e in _events(live, account_id) if e.event == "CreateUser"]
    assert [e.client_ip for e in created] == ["203.0.113.77"]
