"""RFC 6238 TOTP (SHA-1, 6 digits, 30 s steps, one step either side) with replay protection, and the device's
clock drift a resync measures (RFC 6238 section 6: the server may record a drifting clock's offset in steps)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import struct
from dataclasses import dataclass

STEP_SECONDS = 30
DIGITS = 6
WINDOW = 1
RESYNC_WINDOW = 10  # a resync finds a device whose clock is up to 5 minutes off, then records its drift


def new_secret() -> str:
    """160 random bits, base32 without padding, as authenticator apps expect."""
    return base64.b32encode(secrets.token_bytes(20)).decode("ascii").rstrip("=")


def _key(secret_b32: str) -> bytes:
    padded = secret_b32.upper() + "=" * (-len(secret_b32) % 8)
    return base64.b32decode(padded)


def code_at(secret_b32: str, step: int) -> str:
    digest = hmac.new(_key(secret_b32), struct.pack(">Q", step), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(number % 10**DIGITS).zfill(DIGITS)


def step_of(unix_time: float) -> int:
    return int(unix_time // STEP_SECONDS)


def _well_formed(code: str) -> bool:
    return len(code) == DIGITS and code.isascii() and code.isdigit()


@dataclass(frozen=True)
class TotpCheck:
    accepted: bool
    step: int | None = None
    replayed: bool = False


def verify(secret_b32: str, code: str, now: float, last_used_step: int | None, drift: int = 0) -> TotpCheck:
    """Accept `code` if it matches a step within the window (around now, moved by the device's recorded `drift`
    in steps) that is newer than the last used one."""
    code = code.strip().replace(" ", "")
    if not _well_formed(code):
        return TotpCheck(False)
    current = step_of(now) + drift
    matched: int | None = None
    for step in range(current - WINDOW, current + WINDOW + 1):
        if hmac.compare_digest(code_at(secret_b32, step), code):
            matched = step
    if matched is None:
        return TotpCheck(False)
    if last_used_step is not None and matched <= last_used_step:
        return TotpCheck(False, matched, replayed=True)
    return TotpCheck(True, matched)


def verify_consecutive(secret_b32: str, first: str, second: str, now: float, window: int = WINDOW) -> int | None:
    """Enrolment and resync: two codes from consecutive steps, the second within `window` steps either side of
    now (enrolment: the normal window; resync: RESYNC_WINDOW, so a drifting device is found) and the first from
    the step before it. A pair read off a device long ago fails.

    Returns the step of the second code, or None.
    """
    first, second = first.strip(), second.strip()
    if not (_well_formed(first) and _well_formed(second)):
        return None
    current = step_of(now)
    found: int | None = None
    for step in range(current - window, current + window + 1):
        if hmac.compare_digest(code_at(secret_b32, step - 1), first) & hmac.compare_digest(
            code_at(secret_b32, step), second
        ):
            found = step
    return found


def provisioning_uri(secret_b32: str, account_label: str, issuer: str) -> str:
    from urllib.parse import quote

    label = f"{quote(issuer, safe='')}:{quote(account_label, safe='@')}"
    return (f"otpauth://totp/{label}?secret={secret_b32}&issuer={quote(issuer, safe='')}"
            "&algorithm=SHA1&digits=6&period=30")
