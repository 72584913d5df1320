"""Master-key rotation: every sealed place re-sealed under the new key and opened by the use cases that read it;
the key file left with the new key and the old one retired (open-only); a live server keeps signing users in
(password + TOTP) and answering signed boto3 calls while `vestibule master-key rotate` runs beside it; the
environment's keyring."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import boto3
import botocore.config
import httpx
import pyotp
import pytest

from http_steps import ROOT_EMAIL, ROOT_PASSWORD, USER_PASSWORD, make_account, sign_in_root, use_clock
from support import csrf_of, deliver_mail, on_live_server, start_live_server, stop_live_server
from vestibule.cli import main
from vestibule.core import identifiers as ids
from vestibule.core.flows import oidc_signin as oidc_flow
from vestibule.core.outbox import MailKind
from vestibule.core.secretbox import Keyring, SecretBox, SecretBoxError, key_id, parse_keyring
from vestibule.runtime import Runtime, build
from vestibule.services import (
    access_keys,
    accounts,
    flows,
    iam_users,
    key_rotation,
    keyring,
    mfa,
    outbound_federation,
    temporary_credentials,
)
from vestibule.services import outbox as outbox_service
from vestibule.services.aws_identity import KeyDirectory
from vestibule.services.captcha import CaptchaService
from vestibule.services.context import Deps
from vestibule.services.federation import console_oidc
from vestibule.services.identity_center import identity_sources
from vestibule.services.mail import DevMailbox, Mail
from vestibule.settings import Settings
from vestibule.store.models import Base, MfaDevice, OidcProvider, SsoInstance
from vestibule.store.sql.sealed import SEALED_COLUMNS, SEALED_FLOW_FIELDS

VESTIBULE = str(Path(sys.executable).with_name("vestibule"))


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The key file in the data directory (VESTIBULE_MASTER_KEY unset), as a single node runs."""
    return settings.with_overrides(master_key="")


def _keys_in_file(settings: Settings) -> list[str]:
    return list(parse_keyring(keyring.key_path(settings).read_text()).ids)


def test_every_sealed_column_of_the_models_is_registered() -> None:
    sealed = {f"{t.name}.{c.name}" for t in Base.metadata.sorted_tables for c in t.columns
              if c.name.endswith("_sealed")}
    assert sealed == {c.name for c in SEALED_COLUMNS} == set(key_rotation.COLUMN_CONTEXTS)
    assert set(SEALED_FLOW_FIELDS) == set(key_rotation.FLOW_CONTEXTS)


async def _add_device(deps: Deps, account_id: str, principal_key: str, name: str) -> tuple[MfaDevice, str]:
    secret = pyotp.random_base32()
    serial = ids.mfa_arn(account_id, name)
    async with deps.store.unit() as uow:
        device = MfaDevice(account_id=account_id, principal_key=principal_key, name=name, serial=serial,
                           secret_sealed=mfa.seal_secret(deps, serial, secret), enabled_at=deps.clock(),
                           last_used_step=None, created_at=deps.clock())
        await uow.mfa.add(device)
    return device, secret


async def _ldap_source(deps: Deps, account_id: str) -> str:
    """An instance whose identity source is LDAP: the service account's password sealed."""
    arn = f"arn:aws:sso:::instance/ssoins-{uuid.uuid4().hex[:16]}"
    async with deps.store.unit() as uow:
        await uow.identity_center.add(SsoInstance(
            arn=arn, identity_store_id=f"d-{uuid.uuid4().hex[:10]}", owner_account_id=account_id, name="rotation",
            kind="ACCOUNT", status="ACTIVE", created_at=deps.clock(), settings="{}", tags="[]"))
    await identity_sources.set_source(deps, identity_sources.LdapSource(
        url="ldaps://ldap.example.com", bind_dn="cn=svc,dc=example,dc=com", base_dn="dc=example,dc=com"),
        instance_arn=arn, password="service account secret")
    return arn


async def _console_oidc(deps: Deps, account_id: str) -> tuple[str, str]:
    """A console OIDC sign-in button with a client secret, and an OIDC sign-in in progress (its PKCE verifier
    sealed in the flow): (provider ARN, flow ID)."""
    arn = f"arn:aws:iam::{account_id}:oidc-provider/idp.example.com"
    async with deps.store.unit() as uow:
        await uow.oidc_providers.add(OidcProvider(
            id="OIDPROTATION0000000", account_id=account_id, url="idp.example.com", issuer="https://idp.example.com",
            arn=arn, client_ids=["console"], thumbprints=[], created_at=deps.clock()))
        await console_oidc.add(deps, uow, account_id, arn, "console", "Example", "client secret value")
        flow = await flows.create(uow, oidc_flow.SPEC, "b" * 64, deps.clock(), oidc_flow.OidcSignIn(
            account_id, arn, "the-nonce", deps.box.seal(b"the verifier", oidc_flow.verifier_context("the-nonce"))),
            flow_id=oidc_flow.flow_id_of("the-state"))
    return arn, flow.id


async def test_rotation_reseals_every_place_and_the_use_cases_open_them(
        runtime: Runtime, client: httpx.AsyncClient, mailbox: DevMailbox, settings: Settings) -> None:
    deps = runtime.deps
    clock = use_clock(runtime)
    old = deps.box.current_key_id
    account_id = await make_account(runtime)
    # a console MFA enrolment in progress (its secret sealed in the flow)
    await sign_in_root(client, mailbox)
    security = await client.get("/console/security")
    r = await client.post("/console/mfa/new", data={"csrf_token": csrf_of(security.text), "password": ROOT_PASSWORD})
    enrol = r.headers["location"]
    page = await client.get(enrol)
    shown = re.search(r'data-secret="([A-Z2-7]+)"', page.text)
    assert shown, "the enrolment page shows no secret"
    # every other place, made by the use cases
    device, device_secret = await _add_device(deps, account_id, f"root:{account_id}", "old-phone")
    async with deps.store.unit() as uow:
        key = await access_keys.create(deps, uow, account_id, f"root:{account_id}")
        temp = await temporary_credentials.issue(deps, uow, account_id=account_id, kind="session",
                                                 source_principal_key=f"root:{account_id}",
                                                 arn=f"arn:aws:iam::{account_id}:root", user_id=account_id,
                                                 duration=3600)
        row = await outbound_federation._new_row(deps, account_id, clock.now)
        await uow.outbound_web_identities.add(row)
        await outbox_service.enqueue(uow, deps.outbox, Mail(to="someone@example.com", subject="queued",
                                                            body="a body sealed in the outbox"),
                                     kind=MailKind.PASSWORD_CHANGED)
    jwks = await outbound_federation.key_set(deps, row.issuer_id)
    captcha = CaptchaService(deps, lambda: "K7M2P")
    await captcha.issue("b" * 64)
    instance_arn = await _ldap_source(deps, account_id)
    oidc_arn, oidc_flow_id = await _console_oidc(deps, account_id)

    before = await key_rotation.counts(deps.store)
    assert {place for place, per_key in before.items() if per_key.get(old)} == (
        {c.name for c in SEALED_COLUMNS} | {key_rotation.FLOWS_NAME})

    result = await key_rotation.rotate(settings, deps.store, batch=2, grace=0.0)

    assert result.retired == [old] and result.still_used == {} and result.current_key_id != old
    assert result.report.resealed == sum(n for per_key in before.values() for n in per_key.values())
    assert _keys_in_file(settings) == [result.current_key_id]
    assert keyring.load(settings, create=False).retired_ids == (old,)
    after = await key_rotation.counts(deps.store)
    assert {kid for per_key in after.values() for kid in per_key} == {result.current_key_id}
    # the serving box took the new file; every value opens through the use case that reads it
    assert deps.box.open(deps.box.seal(b"x", "c"), "c") == b"x" and deps.box.current_key_id == result.current_key_id
    with pytest.raises(SecretBoxError):
        deps.box.open(f"v1.{old}.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "c")
    assert old in deps.box.key_ids
    directory = KeyDirectory(deps)
    found = await directory.lookup(key.access_key_id)
    assert found is not None and found.secret == key.secret_access_key
    found = await directory.lookup(temp.access_key_id)
    assert found is not None and found.secret == temp.secret_access_key
    async with deps.store.unit() as uow:
        stored = await uow.mfa.by_serial(device.serial)
    assert stored is not None and mfa.device_secret(deps, stored) == device_secret
    assert await outbound_federation.key_set(deps, row.issuer_id) == jwks
    assert await captcha.check("b" * 64, "K7M2P")
    async with deps.store.unit() as uow:
        ldap = await identity_sources.ldap_of(deps, uow, instance_arn)
    assert ldap is not None and ldap[1] == "service account secret"
    async with deps.store.unit() as uow:
        opened = await console_oidc.registration(deps, uow, account_id, oidc_arn)
        pending = await flows.load(uow, oidc_flow.SPEC, oidc_flow_id)
    assert opened.client_secret == "client secret value" and pending.payload.verifier_sealed is not None
    assert deps.box.open(
        pending.payload.verifier_sealed, oidc_flow.verifier_context("the-nonce")) == b"the verifier"
    await deliver_mail(runtime)
    assert [m.body for m in mailbox.messages if m.subject == "queued"] == ["a body sealed in the outbox"]
    page = await client.get(enrol)
    assert f'data-secret="{shown.group(1)}"' in page.text
    totp = pyotp.TOTP(shown.group(1))
    code1 = totp.at(clock.now)
    clock.advance(30)
    r = await client.post(enrol, data={"csrf_token": csrf_of(page.text), "device_name": "new-phone",
                                       "mfa_code": code1, "mfa_code_2": totp.at(clock.now)})
    assert r.status_code == 303, r.text


async def test_a_value_no_key_opens_keeps_its_key(runtime: Runtime, settings: Settings) -> None:
    """A damaged value under the old key: the rotation reports it and keeps the key, so nothing is lost silently."""
    deps = runtime.deps
    old = deps.box.current_key_id
    account_id = await make_account(runtime)
    async with deps.store.unit() as uow:
        key = await access_keys.create(deps, uow, account_id, f"root:{account_id}")
        stored = await uow.access_keys.get(key.access_key_id)
        assert stored is not None
        stored.secret_sealed = deps.box.seal(b"sealed for another row", "access-key:AKIAOTHER")
    result = await key_rotation.rotate(settings, deps.store, grace=0.0)
    assert result.retired == [] and result.still_used == {old: 1}
    assert result.report.unopenable == {"access_keys.secret_sealed": 1}
    assert _keys_in_file(settings) == [result.current_key_id, old]


async def test_one_rotation_at_a_time(runtime: Runtime, settings: Settings) -> None:
    """Two rotations at once would each write a keyring without the other's new key."""
    before = keyring.key_path(settings).read_text()
    with keyring.rotation_lock(settings), pytest.raises(keyring.RotationRunning):
        await key_rotation.rotate(settings, runtime.deps.store, grace=0.0)
    assert keyring.key_path(settings).read_text() == before
    assert (await key_rotation.rotate(settings, runtime.deps.store, grace=0.0)).new_key_id is not None


def test_a_one_key_file_is_the_keyring_it_always_was(settings: Settings) -> None:
    """A master.key written before keyrings: the same key ID and the same CSRF/browser-cookie key."""
    import hashlib
    import hmac

    path = keyring.key_path(settings)
    path.parent.mkdir(parents=True)
    path.write_text("ab" * 32 + "\n")
    ring = keyring.load(settings)
    assert ring.ids == (key_id(bytes.fromhex("ab" * 32)),)
    assert ring.signing_key == hmac.new(bytes.fromhex("ab" * 32), b"vestibule csrf", hashlib.sha256).digest()
    rotated = ring.with_new_key(os.urandom(32))
    keyring.write(settings, rotated)
    assert path.stat().st_mode & 0o777 == 0o600
    assert keyring.load(settings) == rotated and keyring.load(settings).signing_key == ring.signing_key


# ---- the environment's keyring ---------------------------------------------------------------------------------


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([VESTIBULE, *args], env=env, capture_output=True, text=True, timeout=120)


def _env(settings: Settings, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VESTIBULE_")}
    env.update(VESTIBULE_DATA_DIR=str(settings.data_dir), VESTIBULE_DATABASE_URL=settings.database_url,
               VESTIBULE_ARGON2_MEMORY_KIB="1024", VESTIBULE_ARGON2_TIME_COST="1", **extra)
    if settings.redis_url:
        env["VESTIBULE_REDIS_URL"] = settings.redis_url
    return env


class _InProcess:
    """`vestibule ...` in this process (main()), with the environment given: exit code, stdout, stderr."""

    def __init__(self, settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
        self.settings, self.monkeypatch, self.capsys = settings, monkeypatch, capsys

    def __call__(self, master_key: str, *argv: str) -> tuple[int, str, str]:
        for name in [n for n in os.environ if n.startswith("VESTIBULE_")]:
            self.monkeypatch.delenv(name)
        for name, value in _env(self.settings, VESTIBULE_MASTER_KEY=master_key).items():
            self.monkeypatch.setenv(name, value)
        self.capsys.readouterr()
        code = main(list(argv))
        out = self.capsys.readouterr()
        return code, out.out, out.err


def test_environment_keyring_rotation_reseals_and_names_the_key_to_remove(
        settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    cli = _InProcess(settings, monkeypatch, capsys)
    old_hex = "5a" * 32
    assert cli(old_hex, "account", "create", "--email", ROOT_EMAIL, "--password", ROOT_PASSWORD,
               "--alias", "acme")[0] == 0
    code, out, err = cli(old_hex, "access-key", "create", "--account", "acme")
    assert code == 0, err
    made = json.loads(out)
    code, _, err = cli(old_hex, "master-key", "rotate")
    assert code == 2 and "master-key new" in err and len(err.splitlines()) == 1
    code, out, _ = cli(old_hex, "master-key", "new")
    assert code == 0
    values = json.loads(out)
    old_ring = parse_keyring(old_hex)
    added, promoted = parse_keyring(values["AddValue"]), parse_keyring(values["PromoteValue"])
    assert added.current_id == old_ring.current_id and added.ids[-1] == values["KeyId"]
    assert promoted.current_id == values["KeyId"] and set(promoted.ids) == set(added.ids)
    assert added.signing_key == promoted.signing_key == old_ring.signing_key  # CSRF tokens and cookies stay valid
    with pytest.raises(SecretBoxError, match="signing"):
        parse_keyring(f"{'5a' * 32},{'6b' * 32}")  # several keys and no signing entry: refused, not guessed
    # a node still on the old value opens what a node on the new value seals, and the other way round
    assert SecretBox.from_keyring(added).open(SecretBox.from_keyring(promoted).seal(b"s", "c"), "c") == b"s"

    code, out, err = cli(values["PromoteValue"], "master-key", "rotate", "--grace", "0")
    assert code == 0, err
    rotated = json.loads(out)
    assert rotated["Retired"] == [old_ring.current_id] and "NewKeyId" not in rotated
    assert "in VESTIBULE_MASTER_KEY on every node, write it as retired:" in err
    only_new = Keyring((promoted.keys[0],), promoted.signing_key).one_line()
    code, out, _ = cli(only_new, "master-key", "status")
    status = json.loads(out)
    assert status["Keys"] == [{"KeyId": values["KeyId"], "Current": True, "Retired": False, "Values": 1}]
    assert status["UnknownKeyIds"] == {} and status["SigningKey"] == "pinned"
    code, out, _ = cli(old_hex, "master-key", "status")
    assert json.loads(out)["UnknownKeyIds"] == {values["KeyId"]: 1}

    async def opened() -> str | None:
        rt = await build(settings.with_overrides(master_key=only_new), run_migrations=False)
        try:
            found = await KeyDirectory(rt.deps).lookup(made["AccessKeyId"])
            return None if found is None else found.secret
        finally:
            await rt.close()

    assert asyncio.run(opened()) == made["SecretAccessKey"]


# ---- rotation beside a live server -----------------------------------------------------------------------------


def _boto(url: str, service: str, access_key: str, secret: str, token: str | None = None) -> Any:
    config = botocore.config.Config(retries={"mode": "standard", "max_attempts": 1}, connect_timeout=10,
                                    read_timeout=20)
    return boto3.session.Session().client(service, endpoint_url=url, region_name="us-east-1", config=config,
                                          aws_access_key_id=access_key, aws_secret_access_key=secret,
                                          aws_session_token=token)


def _sign_in(url: str, alias: str, name: str, code: str) -> bool:
    with httpx.Client(base_url=url, follow_redirects=False, timeout=20) as c:
        page = c.get(f"/{alias}/console")
        r = c.post(f"/{alias}/console", data={"csrf_token": csrf_of(page.text), "username": name,
                                               "password": USER_PASSWORD})
        flow = r.headers.get("location", "")
        if r.status_code != 303 or not flow.startswith("/signin?flow="):
            return False
        page = c.get(flow)
        r = c.post(flow, data={"csrf_token": csrf_of(page.text), "step": "mfa", "mfa_code": code})
        return r.status_code == 303 and r.headers.get("location") == "/console" and c.get(
            "/console").status_code == 200


class _Codes:
    """Fresh TOTP codes of several devices: each accepts one code per time step, one step either side. Only the
    current and the next step are handed out: a code of the previous step could leave the window while a loaded
    machine is still answering its sign-in (seen once: 'sign-in of u2 failed')."""

    def __init__(self, secrets_by_user: dict[str, str]) -> None:
        self.secrets = secrets_by_user
        self.used: dict[str, int] = {}

    def next(self) -> tuple[str, str] | None:
        now = int(time.time() // 30)
        for name, secret in self.secrets.items():
            step = max(self.used.get(name, now - 1) + 1, now)
            if step <= now + 1:
                self.used[name] = step
                return name, pyotp.TOTP(secret).at(step * 30)
        return None


def test_rotation_while_serving_sign_ins_and_signed_calls(settings: Settings, monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    live = start_live_server(settings, DevMailbox())
    alias = f"rot-{uuid.uuid4().hex[:8]}"
    try:
        old = live.runtime.deps.box.current_key_id

        async def setup(deps: Deps) -> tuple[str, Any, dict[str, str]]:
            async with deps.store.unit() as uow:
                created = await accounts.create_account(deps, uow, email=f"{alias}@example.com",
                                                        password=ROOT_PASSWORD, alias=alias)
                root_key = await access_keys.create(deps, uow, created.account_id, f"root:{created.account_id}")
                account = await accounts.require(uow, created.account_id)
                users = {}
                for i in range(6):
                    user = await iam_users.create_user(deps, uow, account, f"u{i}", password=USER_PASSWORD)
                    users[user.name] = user.id
            seeds = {}
            for name, user_id in users.items():
                _, seeds[name] = await _add_device(deps, created.account_id, f"user:{user_id}", f"{name}-phone")
            return created.account_id, root_key, seeds

        account_id, root_key, seeds = on_live_server(live, setup(live.runtime.deps))
        reserved = {"u5": seeds.pop("u5")}  # signs in after the rotation, on a fresh server
        codes = _Codes(seeds)
        sts = _boto(live.url, "sts", root_key.access_key_id, root_key.secret_access_key)
        iam = _boto(live.url, "iam", root_key.access_key_id, root_key.secret_access_key)
        session = sts.get_session_token(DurationSeconds=3600)["Credentials"]

        done = threading.Event()
        results: dict[str, list[tuple[bool, bool]]] = {"signin": [], "api": []}  # (ok, during the rotation)
        made_keys: list[dict[str, str]] = []
        failures: list[str] = []

        def mid_rotation() -> bool:
            return len(_keys_in_file(settings)) > 1

        def load() -> None:
            while not done.is_set():
                during = mid_rotation()
                try:
                    ident = sts.get_caller_identity()
                    assert ident["Account"] == account_id
                    iam.list_users()
                    temp = _boto(live.url, "sts", session["AccessKeyId"], session["SecretAccessKey"],
                                 session["SessionToken"])
                    assert temp.get_caller_identity()["Account"] == account_id
                    if len(made_keys) < 10:
                        made = iam.create_access_key(UserName=f"u{len(made_keys) // 2}")["AccessKey"]  # 2 per user
                        made_keys.append(made)
                    results["api"].append((True, during))
                except Exception as exc:  # any failure of a signed call is the finding
                    failures.append(f"api: {exc!r}")
                    results["api"].append((False, during))
                # one sign-in before the rotation, the other fresh codes kept for while it runs
                pick = codes.next() if during or not results["signin"] else None
                if pick is not None:
                    ok = _sign_in(live.url, alias, *pick)
                    results["signin"].append((ok, during))
                    if not ok:
                        failures.append(f"sign-in of {pick[0]} failed")
                time.sleep(0.05)

        # a browser that opened the sign-in page before the rotation (its cookie and CSRF token)
        keeper = httpx.Client(base_url=live.url, follow_redirects=False, timeout=20)
        token = csrf_of(keeper.get(f"/{alias}/console").text)
        cookies = httpx.Cookies(keeper.cookies)  # the password step below moves the browser to a new ID

        def password_step(c: httpx.Client) -> httpx.Response:
            return c.post(f"/{alias}/console", data={"csrf_token": token, "username": "u4",
                                                      "password": USER_PASSWORD})

        worker = threading.Thread(target=load, daemon=True)
        worker.start()
        time.sleep(0.5)
        env = _env(settings)
        rotated = _cli(env, "master-key", "rotate", "--batch", "3", "--grace", "2")
        done.set()
        worker.join(60)
        assert rotated.returncode == 0, rotated.stderr
        out = json.loads(rotated.stdout)
        new = out["NewKeyId"]
        assert out["Retired"] == [old] and out["CurrentKeyId"] == new
        assert failures == []
        assert any(during for _, during in results["signin"]), results
        assert any(during for _, during in results["api"]), results
        assert len(results["signin"]) >= 3 and all(ok for ok, _ in results["signin"] + results["api"])

        assert _keys_in_file(settings) == [new]
        code, out, _ = _InProcess(settings, monkeypatch, capsys)("", "master-key", "status")
        status = json.loads(out)
        assert code == 0
        assert [(k["KeyId"], k["Retired"]) for k in status["Keys"]] == [(new, False), (old, True)]
        assert status["UnknownKeyIds"] == {} and status["Keys"][1]["Values"] == 0
        assert status["Keys"][0]["Values"] >= 1 + 6 + 1 + len(made_keys)
        assert all(set(per_key) == {new} for per_key in status["Places"].values())
        # the serving node keeps working after the retirement; the browser's token is still good
        assert sts.get_caller_identity()["Account"] == account_id
        r = password_step(keeper)
        assert r.status_code == 303 and r.headers["location"].startswith("/signin?flow="), r.text
        made = iam.create_access_key(UserName="u5")["AccessKey"]
    finally:
        stop_live_server(live)

    # a fresh server (no cached secrets) opens everything with the new key only
    fresh = start_live_server(settings, DevMailbox())
    try:
        assert fresh.runtime.deps.box.key_ids == {new, old}  # the old one retired: it opens, never seals
        for access_key, secret, session_token in [(root_key.access_key_id, root_key.secret_access_key, None),
                                          (session["AccessKeyId"], session["SecretAccessKey"],
                                           session["SessionToken"]),
                                          (made["AccessKeyId"], made["SecretAccessKey"], None),
                                          *[(k["AccessKeyId"], k["SecretAccessKey"], None) for k in made_keys]]:
            caller = _boto(fresh.url, "sts", access_key, secret, session_token).get_caller_identity()
            assert caller["Account"] == account_id
        assert _sign_in(fresh.url, alias, "u5", pyotp.TOTP(reserved["u5"]).now())
        with httpx.Client(base_url=fresh.url, follow_redirects=False, timeout=20, cookies=cookies) as again:
            r = password_step(again)  # the signing key stayed: cookie and CSRF token of before the rotation
            assert r.status_code == 303 and r.headers["location"].startswith("/signin?flow="), r.text
    finally:
        keeper.close()
        stop_live_server(fresh)
