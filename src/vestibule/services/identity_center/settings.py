"""Identity Center instance settings (the Vestibule CLI sets them; the portal obeys them): portal session
duration, when to prompt for MFA, what a user without an MFA device meets, how new users are onboarded, and an
optional custom portal subdomain. Defaults are the secure choices: MFA at every sign-in, a device must be
registered at sign-in, onboarding by mailed invitation, 8-hour portal sessions."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, replace
from typing import Any

from ...errors import InvalidValue

MIN_PORTAL_SESSION = 15 * 60
MAX_PORTAL_SESSION = 90 * 24 * 3600
DEFAULT_PORTAL_SESSION = 8 * 3600
MFA_PROMPT_MODES = ("EVERY_SIGN_IN", "CONTEXT_CHANGE", "NEVER")
NO_MFA_DEVICE = ("REQUIRE_REGISTRATION", "EMAIL_CODE", "BLOCK")
ONBOARDING = ("EMAIL_INVITATION", "ONE_TIME_PASSWORD")
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{1,61}[a-z0-9])?")
_STORE_ID = re.compile(r"d-[0-9a-f]{10}")
_WIRE = {"portal_session_seconds": "PortalSessionSeconds", "mfa_prompt": "MfaPromptMode",
         "no_mfa_device": "NoMfaDevice", "onboarding": "Onboarding", "portal_subdomain": "PortalSubdomain"}


@dataclass(frozen=True)
class InstanceSettings:
    portal_session_seconds: int = DEFAULT_PORTAL_SESSION
    mfa_prompt: str = "EVERY_SIGN_IN"
    no_mfa_device: str = "REQUIRE_REGISTRATION"
    onboarding: str = "EMAIL_INVITATION"
    portal_subdomain: str | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    def shape(self) -> dict[str, Any]:
        return {_WIRE[k]: v for k, v in asdict(self).items()}


def from_json(stored: str) -> InstanceSettings:
    known = {k: v for k, v in json.loads(stored or "{}").items() if k in _WIRE}
    return InstanceSettings(**known)


def subdomain(value: str) -> str:
    """A custom portal subdomain: one DNS label (3-63 lowercase letters, digits, hyphens; no hyphen first or
    last), not shaped like an identity store ID."""
    name = value.strip().lower()
    if len(name) < 3 or not _LABEL.fullmatch(name) or _STORE_ID.fullmatch(name) or "--" in name[2:4]:
        raise InvalidValue("The portal subdomain must be 3 to 63 lowercase letters, digits or hyphens, start and "
                           "end with a letter or digit, and not look like an identity store ID (d-xxxxxxxxxx).")
    return name


def _one_of(field: str, value: str | None, allowed: tuple[str, ...]) -> str | None:
    if value is not None and value not in allowed:
        raise InvalidValue(f"{_WIRE[field]} must be one of {', '.join(allowed)}.")
    return value


def changed(current: InstanceSettings, *, portal_session_seconds: int | None = None, mfa_prompt: str | None = None,
            no_mfa_device: str | None = None, onboarding: str | None = None, portal_subdomain: str | None = None,
            clear_subdomain: bool = False) -> InstanceSettings:
    """`current` with the given changes, each validated (InvalidValue names the rule broken)."""
    new = current
    if portal_session_seconds is not None:
        if not MIN_PORTAL_SESSION <= portal_session_seconds <= MAX_PORTAL_SESSION:
            raise InvalidValue("The portal session duration must be between 15 minutes and 90 days.")
        new = replace(new, portal_session_seconds=portal_session_seconds)
    new = replace(new, mfa_prompt=_one_of("mfa_prompt", mfa_prompt, MFA_PROMPT_MODES) or new.mfa_prompt,
                  no_mfa_device=_one_of("no_mfa_device", no_mfa_device, NO_MFA_DEVICE) or new.no_mfa_device,
                  onboarding=_one_of("onboarding", onboarding, ONBOARDING) or new.onboarding)
    if clear_subdomain:
        new = replace(new, portal_subdomain=None)
    elif portal_subdomain is not None:
        new = replace(new, portal_subdomain=subdomain(portal_subdomain))
    return new


_UNITS = {"m": 60, "h": 3600, "d": 86400}


def duration(text: str) -> int:
    """Seconds of a CLI duration: `90m`, `8h`, `30d`, or plain seconds."""
    found = re.fullmatch(r"(\d+)([mhd]?)", text.strip().lower())
    if found is None:
        raise InvalidValue("A duration is a number of seconds or a number followed by m, h or d (8h, 30d).")
    return int(found.group(1)) * _UNITS.get(found.group(2), 1)
