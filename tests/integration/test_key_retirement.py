"""A rotation never destroys key material: the old key stays in the keyring as `retired:` (it opens, never seals),
so a write sealed under it before the rotation and committed after it still opens; `vestibule master-key forget`
is the only way a key leaves the keyring, refused while a stored value uses it, and it keeps a copy of the key."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pyotp
import pytest

from http_steps import make_account
from vestibule.core import identifiers as ids
from vestibule.core.secretbox import SecretBox, SecretBoxError, parse_keyring
from vestibule.runtime import Runtime, build
from vestibule.services import key_rotation, keyring, mfa
from vestibule.settings import Settings
from vestibule.store.models import MfaDevice

VESTIBULE = str(Path(sys.executable).with_name("vestibule"))


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The key file in the data directory (VESTIBULE_MASTER_KEY unset), as a single node runs."""
    return settings.with_overrides(master_key="")


def _cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VESTIBULE_")}
    env.update(VESTIBULE_DATA_DIR=str(settings.data_dir), VESTIBULE_DATABASE_URL=settings.database_url)
    if settings.redis_url:
        env["VESTIBULE_REDIS_URL"] = settings.redis_url
    return subprocess.run([VESTIBULE, *args], env=env, capture_output=True, text=True, timeout=120)


async def _status(settings: Settings) -> dict[str, object]:
    r = await asyncio.to_thread(_cli, settings, "master-key", "status")
    assert r.returncode == 0, r.stderr
    status: dict[str, object] = json.loads(r.stdout)
    return status


async def test_a_write_sealed_before_the_rotation_and_committed_after_it_still_opens(
        runtime: Runtime, settings: Settings) -> None:
    deps = runtime.deps
    old = deps.box.current_key_id
    serving = deps.box  # the box as loaded: the old key seals
    account_id = await make_account(runtime)
    secret = pyotp.random_base32()
    serial = ids.mfa_arn(account_id, "late-phone")
    # CreateVirtualMFADevice seals, then its transaction waits (e.g. on a locked audit table) ...
    sealed = mfa.seal_secret(deps, serial, secret)
    assert sealed.startswith(f"v1.{old}.")
    # ... while the rotation runs to its end
    result = await key_rotation.rotate(settings, deps.store, grace=0.0)
    new = result.current_key_id
    assert result.retired == [old] and new != old
    ring = keyring.load(settings, create=False)
    assert ring.ids == (new,) and ring.retired_ids == (old,)  # retired, not deleted
    # ... and then the write commits under the old key
    async with deps.store.unit() as uow:
        await uow.mfa.add(MfaDevice(account_id=account_id, principal_key=f"root:{account_id}", name="late-phone",
                                    serial=serial, secret_sealed=sealed, enabled_at=deps.clock(),
                                    last_used_step=None, created_at=deps.clock()))
    fresh = await build(settings, run_migrations=False)  # a node started after the rotation: the file only
    try:
        async with fresh.deps.store.unit() as uow:
            stored = await uow.mfa.by_serial(serial)
        assert stored is not None and mfa.device_secret(fresh.deps, stored) == secret
        assert fresh.deps.box.current_key_id == new  # a retired key never seals
        assert fresh.deps.box.seal(b"x", "c").startswith(f"v1.{new}.")
    finally:
        await fresh.close()
    assert serving.seal(b"x", "c").startswith(f"v1.{new}.")  # the serving box takes the rewritten file

    status = await _status(settings)
    assert status["Keys"] == [{"KeyId": new, "Current": True, "Retired": False, "Values": 0},
                              {"KeyId": old, "Retired": True, "Current": False, "Values": 1}]
    before = keyring.key_path(settings).read_text()
    refused = await asyncio.to_thread(_cli, settings, "master-key", "forget", old)
    assert refused.returncode == 1 and refused.stdout == ""
    assert refused.stderr.splitlines() == [
        f"vestibule: error: key {old} still seals 1 stored value: run vestibule master-key rotate first; "
        "nothing was changed"]
    assert keyring.key_path(settings).read_text() == before
    for kid, why in [(new, "is the current key"), ("0badc0de", "holds no key 0badc0de")]:
        r = await asyncio.to_thread(_cli, settings, "master-key", "forget", kid)
        assert r.returncode == 1 and why in r.stderr and len(r.stderr.splitlines()) == 1, r.stderr

    # the next rotation moves the late value; then the old key may go, and a copy of it stays
    again = await asyncio.to_thread(_cli, settings, "master-key", "rotate", "--grace", "0")
    assert again.returncode == 0, again.stderr
    newest = json.loads(again.stdout)["CurrentKeyId"]
    assert json.loads(again.stdout)["Resealed"] >= 1
    old_key = ring.key(old)
    assert old_key is not None
    gone = await asyncio.to_thread(_cli, settings, "master-key", "forget", old)
    assert gone.returncode == 0, gone.stderr
    copy = keyring.key_path(settings).with_name(f"master.key.retired-{old}")
    assert json.loads(gone.stdout) == {"Forgotten": old, "Copy": str(copy)}
    assert copy.stat().st_mode & 0o777 == 0o600 and f"retired:{old_key.hex()}" in copy.read_text()
    left = keyring.load(settings, create=False)
    assert old not in left.all_ids and left.ids == (newest,) and left.retired_ids == (new,)
    assert old_key.hex() not in keyring.key_path(settings).read_text()
    with pytest.raises(SecretBoxError):
        SecretBox.from_keyring(left).open(sealed, mfa.sealing_context(serial))
    # the copy's line, added back, opens the value again
    restored = parse_keyring(keyring.key_path(settings).read_text() + copy.read_text())
    assert SecretBox.from_keyring(restored).open(sealed, mfa.sealing_context(serial)) == secret.encode()


def test_environment_keyring_forget_prints_the_value_without_the_key(settings: Settings) -> None:
    """With VESTIBULE_MASTER_KEY the command changes nothing: it checks, and prints the value to set."""
    from vestibule.core.secretbox import Keyring

    a, b = bytes(range(32)), bytes(range(1, 33))
    ring = Keyring((b,), b"\x07" * 32, retired=(a,))
    env = {k: v for k, v in os.environ.items() if not k.startswith("VESTIBULE_")}
    env.update(VESTIBULE_DATA_DIR=str(settings.data_dir), VESTIBULE_DATABASE_URL=settings.database_url,
               VESTIBULE_MASTER_KEY=ring.one_line())
    if settings.redis_url:
        env["VESTIBULE_REDIS_URL"] = settings.redis_url
    r = subprocess.run([VESTIBULE, "master-key", "forget", ring.retired_ids[0]], env=env, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert parse_keyring(out["Value"]) == Keyring((b,), b"\x07" * 32)
    assert "VESTIBULE_MASTER_KEY" in r.stderr and not keyring.key_path(settings).exists()
