"""Keyrings: the text forms (a single key as before, several keys with the signing entry), what a box takes from
a reloaded keyring (before sealing, and for an unknown key ID), and what it never does."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from vestibule.core.secretbox import Keyring, SecretBox, SecretBoxError, key_id, parse_keyring, sealed_key_id

A, B, C = bytes(range(32)), bytes(range(1, 33)), bytes(range(2, 34))
SIGN = b"\x07" * 32


def test_one_key_is_the_keyring_of_a_single_master_key() -> None:
    ring = parse_keyring(A.hex() + "\n")
    assert ring.keys == (A,) and ring.current_id == hashlib.sha256(A).hexdigest()[:8]
    assert ring.signing_key == hmac.new(A, b"vestibule csrf", hashlib.sha256).digest() and not ring.signing_pinned


@pytest.mark.parametrize("text", [
    f"{A.hex()},{B.hex()},signing:{SIGN.hex()}",
    f"# comment\n{A.hex()}  # key one\n{B.hex()}\nsigning:{SIGN.hex()}\n",
    f"  {A.hex()} {B.hex()}\tSIGNING:{SIGN.hex().upper()} ",
])
def test_several_keys_first_is_current(text: str) -> None:
    ring = parse_keyring(text)
    assert ring.keys == (A, B) and ring.signing_key == SIGN and ring.current_id == key_id(A)


@pytest.mark.parametrize("text", [
    "", "# only a comment", f"{A.hex()},{B.hex()}", f"{A.hex()},{A.hex()},signing:{SIGN.hex()}",
    f"{A.hex()},signing:{SIGN.hex()},signing:{SIGN.hex()}", f"{A.hex()},signing:abc", f"{A.hex()},{A.hex()[:-1]}",
    f"signing:{SIGN.hex()}", f"{A.hex()};{B.hex()}",
])
def test_bad_keyrings_are_refused(text: str) -> None:
    with pytest.raises(SecretBoxError):
        parse_keyring(text)


@pytest.mark.parametrize("ring", [Keyring((A, B), SIGN), Keyring((C,), SIGN), Keyring((A, B, C), B),
                                  Keyring((A,), SIGN, retired=(B, C))])
def test_text_and_one_line_round_trip(ring: Keyring) -> None:
    assert parse_keyring(ring.text()) == ring == parse_keyring(ring.one_line())


def test_new_key_keeps_the_signing_key_and_retiring_keeps_the_current_one() -> None:
    legacy = parse_keyring(A.hex())
    rotated = legacy.with_new_key(B)
    assert rotated.keys == (B, A) and rotated.signing_key == legacy.signing_key and rotated.signing_pinned
    assert rotated.without({key_id(A)}).keys == (B,)
    with pytest.raises(SecretBoxError):
        rotated.without({key_id(B)})
    assert legacy.with_key_last(B).keys == (A, B)


def test_retired_keys_open_and_never_seal() -> None:
    ring = parse_keyring(f"{B.hex()}\nretired:{A.hex()}\nsigning:{SIGN.hex()}")
    assert ring.ids == (key_id(B),) and ring.retired_ids == (key_id(A),) and ring.all_ids == (key_id(B), key_id(A))
    old = SecretBox.from_keyring(Keyring((A,), SIGN)).seal(b"late", "c")
    box = SecretBox.from_keyring(ring)
    assert box.open(old, "c") == b"late" and box.seal(b"x", "c").startswith(f"v1.{key_id(B)}.")
    rotated = Keyring((A,), SIGN).with_new_key(B).retiring({key_id(A)})
    assert rotated == ring and rotated.with_new_key(C).retired == (A,)
    assert rotated.without({key_id(A)}) == Keyring((B,), SIGN)
    with pytest.raises(SecretBoxError):
        rotated.retiring({key_id(B)})
    with pytest.raises(SecretBoxError):
        parse_keyring(f"retired:{A.hex()},signing:{SIGN.hex()}")  # no key that seals
    with pytest.raises(SecretBoxError):
        parse_keyring(f"{A.hex()},retired:{A.hex()},signing:{SIGN.hex()}")  # the same key twice
    with pytest.raises(SecretBoxError):
        parse_keyring(f"{A.hex()},retired:{B.hex()}")  # a retired key and no signing entry


class _Source:
    """A keyring source: hands out `ring` once when set (a changed file), else None."""

    def __init__(self) -> None:
        self.ring: Keyring | None = None
        self.calls = 0

    def __call__(self) -> Keyring | None:
        self.calls += 1
        ring, self.ring = self.ring, None
        return ring


def test_a_reloaded_keyring_seals_at_once_and_opens_unknown_key_ids() -> None:
    source = _Source()
    box = SecretBox.from_keyring(Keyring((A,), SIGN), reload=source)
    other = SecretBox.from_keyring(Keyring((B, A), SIGN))
    from_b = other.seal(b"secret", "ctx")
    with pytest.raises(SecretBoxError):
        box.open(from_b, "ctx")  # the source had nothing newer
    source.ring = Keyring((B, A), SIGN)
    assert box.open(from_b, "ctx") == b"secret"  # unknown key ID: reloaded once, then opened
    assert sealed_key_id(box.seal(b"x", "ctx")) == key_id(B) and box.signing_key == SIGN
    source.ring = Keyring((B,), SIGN)
    assert sealed_key_id(box.seal(b"x", "ctx")) == key_id(B)  # taken before the seal: A retired
    with pytest.raises(SecretBoxError):
        box.open(SecretBox.from_keyring(Keyring((A,), SIGN)).seal(b"old", "ctx"), "ctx")


def test_a_known_key_id_never_reloads() -> None:
    source = _Source()
    box = SecretBox.from_keyring(Keyring((A,), SIGN), reload=source)
    sealed = SecretBox.from_keyring(Keyring((A,), SIGN)).seal(b"v", "ctx")
    before = source.calls
    assert box.open(sealed, "ctx") == b"v" and source.calls == before
    with pytest.raises(SecretBoxError):
        box.open(sealed, "other")  # a wrong context is not an unknown key
    assert source.calls == before


@pytest.mark.parametrize(("value", "kid"), [("v1.abcd1234.AAAA", "abcd1234"), ("", None), ("v2.abcd.x", None),
                                            ("v1..x", None), ("v1.abcd", None), ("garbage", None)])
def test_sealed_key_id(value: str, kid: str | None) -> None:
    assert sealed_key_id(value) == kid
