"""AES-256-GCM sealing: round trips, context binding, tampering, key IDs and rotation."""

from __future__ import annotations

import base64
import hashlib

import pytest

from vestibule.core.secretbox import SecretBox, SecretBoxError

K1 = bytes(range(32))
K2 = bytes(range(100, 132))
HEX_KEY = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"


@pytest.fixture
def box() -> SecretBox:
    return SecretBox({"k1": K1}, "k1")


def _flip(sealed: str, index: int) -> str:
    """Flip one bit of the decoded blob at `index` and re-encode."""
    version, kid, blob = sealed.split(".", 2)
    raw = bytearray(base64.urlsafe_b64decode(blob))
    raw[index] ^= 0x01
    return f"{version}.{kid}.{base64.urlsafe_b64encode(bytes(raw)).decode()}"


@pytest.mark.parametrize(
    "plaintext",
    [b"", b"x", b"JBSWY3DPEHPK3PXP", bytes(range(256)), "pässwörd".encode(), b"\x00" * 4096],
)
def test_round_trip(box: SecretBox, plaintext: bytes) -> None:
    sealed = box.seal(plaintext, "totp:alice")
    assert box.open(sealed, "totp:alice") == plaintext


def test_sealed_format(box: SecretBox) -> None:
    sealed = box.seal(b"secret", "ctx")
    version, kid, blob = sealed.split(".", 2)
    assert (version, kid) == ("v1", "k1")
    raw = base64.urlsafe_b64decode(blob)
    assert len(raw) == 12 + len(b"secret") + 16  # nonce + ciphertext + tag
    assert b"secret" not in raw


def test_each_seal_uses_a_fresh_nonce(box: SecretBox) -> None:
    sealed = {box.seal(b"same", "ctx") for _ in range(50)}
    assert len(sealed) == 50
    assert {box.open(s, "ctx") for s in sealed} == {b"same"}


@pytest.mark.parametrize("other_context", ["", "totp:bob", "totp:alice ", "TOTP:alice", "access-key:alice"])
def test_wrong_context_fails(box: SecretBox, other_context: str) -> None:
    sealed = box.seal(b"seed", "totp:alice")
    with pytest.raises(SecretBoxError):
        box.open(sealed, other_context)


@pytest.mark.parametrize("index", [0, 5, 11, 12, 13, 20, -17, -1])
def test_tampered_value_fails(box: SecretBox, index: int) -> None:
    sealed = box.seal(b"a secret of some length", "ctx")
    with pytest.raises(SecretBoxError):
        box.open(_flip(sealed, index), "ctx")


def test_truncated_tag_fails(box: SecretBox) -> None:
    sealed = box.seal(b"a secret of some length", "ctx")
    version, kid, blob = sealed.split(".", 2)
    raw = base64.urlsafe_b64decode(blob)[:-1]
    with pytest.raises(SecretBoxError):
        box.open(f"{version}.{kid}.{base64.urlsafe_b64encode(raw).decode()}", "ctx")


@pytest.mark.parametrize(
    "mangle",
    [
        lambda s: s.replace("v1.", "v2.", 1),
        lambda s: s.replace(".k1.", ".k9.", 1),
        lambda s: s.replace(".k1.", "..", 1),
        lambda s: s.split(".", 1)[1],
        lambda s: "garbage",
        lambda s: "",
        lambda s: "v1.k1",
    ],
)
def test_unknown_key_or_format_fails(box: SecretBox, mangle: object) -> None:
    sealed = box.seal(b"seed", "ctx")
    with pytest.raises(SecretBoxError):
        box.open(mangle(sealed), "ctx")  # type: ignore[operator]


@pytest.mark.parametrize("blob", ["abc", "AAAA", "", "é"])
def test_malformed_blob_fails_with_secretbox_error(box: SecretBox, blob: str) -> None:
    with pytest.raises(SecretBoxError):
        box.open(f"v1.k1.{blob}", "ctx")


def test_value_sealed_by_other_key_with_same_id_fails() -> None:
    sealed = SecretBox({"k1": K1}, "k1").seal(b"seed", "ctx")
    with pytest.raises(SecretBoxError):
        SecretBox({"k1": K2}, "k1").open(sealed, "ctx")


def test_constructor_rejects_missing_current_key() -> None:
    with pytest.raises(SecretBoxError):
        SecretBox({"k1": K1}, "k2")
    with pytest.raises(SecretBoxError):
        SecretBox({}, "k1")


@pytest.mark.parametrize("length", [0, 16, 24, 31, 33, 64])
def test_constructor_rejects_wrong_key_length(length: int) -> None:
    with pytest.raises(SecretBoxError):
        SecretBox({"k1": K1, "old": b"\x01" * length}, "k1")


# --- from_hex ----------------------------------------------------------------


@pytest.mark.parametrize("hex_key", [HEX_KEY, HEX_KEY.upper(), f"  {HEX_KEY}\n"])
def test_from_hex_accepts_64_hex_chars(hex_key: str) -> None:
    box = SecretBox.from_hex(hex_key)
    sealed = box.seal(b"seed", "ctx")
    kid = hashlib.sha256(bytes.fromhex(HEX_KEY)).hexdigest()[:8]
    assert sealed.startswith(f"v1.{kid}.")
    assert SecretBox.from_hex(HEX_KEY).open(sealed, "ctx") == b"seed"


@pytest.mark.parametrize(
    "hex_key",
    ["", "zz" * 32, HEX_KEY[:-2], HEX_KEY + "00", HEX_KEY[:-1], "0x" + HEX_KEY[2:], HEX_KEY[:32], "g" + HEX_KEY[1:]],
)
def test_from_hex_rejects_bad_keys(hex_key: str) -> None:
    with pytest.raises(SecretBoxError, match="64 hexadecimal"):
        SecretBox.from_hex(hex_key)


def test_from_hex_different_keys_do_not_open_each_other() -> None:
    sealed = SecretBox.from_hex(HEX_KEY).seal(b"seed", "ctx")
    with pytest.raises(SecretBoxError):
        SecretBox.from_hex("ff" * 32).open(sealed, "ctx")


# --- rotation ----------------------------------------------------------------


def test_rotation_opens_old_values_and_seals_with_new_key() -> None:
    old_box = SecretBox({"k1": K1}, "k1")
    old_sealed = old_box.seal(b"old seed", "ctx")

    rotated = SecretBox({"k1": K1, "k2": K2}, "k2")
    assert rotated.open(old_sealed, "ctx") == b"old seed"

    new_sealed = rotated.seal(b"new seed", "ctx")
    assert new_sealed.startswith("v1.k2.")
    assert rotated.open(new_sealed, "ctx") == b"new seed"
    # The old deployment does not know k2.
    with pytest.raises(SecretBoxError):
        old_box.open(new_sealed, "ctx")
    # Re-sealing moves a value onto the current key.
    assert rotated.open(rotated.seal(rotated.open(old_sealed, "ctx"), "ctx"), "ctx") == b"old seed"


def test_retired_key_no_longer_opens() -> None:
    sealed = SecretBox({"k1": K1}, "k1").seal(b"seed", "ctx")
    with pytest.raises(SecretBoxError):
        SecretBox({"k2": K2}, "k2").open(sealed, "ctx")
