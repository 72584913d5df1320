"""The SSO token cache botocore reads and refreshes, `~/.aws/sso/cache/<sha1(sso-session name)>.json`, and the
client registration cache beside it, keyed as AWS CLI v2 keys it. Files are written atomically (a new file,
then rename), readable by their owner only."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

# botocore refreshes a token with less than 15 minutes left (SSOTokenProvider._REFRESH_WINDOW); a token with
# less than this is not worth reusing for the wizard either.
REUSE_MARGIN = timedelta(minutes=15)


def cache_dir() -> Path:
    """`~/.aws/sso/cache`: botocore hard-codes it (it follows HOME)."""
    return Path.home() / ".aws" / "sso" / "cache"


def iso_z(moment: datetime) -> str:
    """`2026-12-02T17:00:00Z`, the form botocore writes and parses."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def token_key(session_name: str) -> str:
    """botocore's SSOTokenLoader key for an sso-session profile: sha1 of the session name."""
    return hashlib.sha1(session_name.encode("utf-8")).hexdigest()


def token_path(session_name: str) -> Path:
    return cache_dir() / f"{token_key(session_name)}.json"


@dataclass(frozen=True)
class CachedToken:
    start_url: str
    region: str
    access_token: str
    expires_at: datetime
    refresh_token: str | None
    client_id: str
    client_secret: str
    registration_expires_at: datetime

    def as_json(self) -> dict[str, str]:
        shown = {"startUrl": self.start_url, "region": self.region, "accessToken": self.access_token,
                 "expiresAt": iso_z(self.expires_at)}
        if self.refresh_token:
            shown["refreshToken"] = self.refresh_token
        shown.update(clientId=self.client_id, clientSecret=self.client_secret,
                     registrationExpiresAt=iso_z(self.registration_expires_at))
        return shown

    @classmethod
    def from_json(cls, data: Any) -> CachedToken | None:
        """None for a file that is not a complete token (hand-edited, or written by another tool)."""
        try:
            return cls(str(data["startUrl"]), str(data["region"]), str(data["accessToken"]),
                       parse_time(str(data["expiresAt"])), data.get("refreshToken") or None,
                       str(data["clientId"]), str(data["clientSecret"]),
                       parse_time(str(data["registrationExpiresAt"])))
        except (KeyError, TypeError, ValueError, AttributeError):
            return None

    def usable(self, now: datetime, start_url: str) -> bool:
        """Live for a while yet and for this portal."""
        return self.start_url == start_url and self.expires_at - now > REUSE_MARGIN


def read_json(path: Path) -> Any:
    """The file's JSON; None when it cannot be read or is not JSON."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def remove_file(path: Path) -> bool:
    """True when there was a file to remove."""
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True


def write_private_json(path: Path, data: Any) -> None:
    """Atomically replace `path` with `data` as JSON, mode 0600 (the directory 0700 when it is created)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")  # mkstemp: mode 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_token(session_name: str) -> CachedToken | None:
    return CachedToken.from_json(read_json(token_path(session_name)))


def save_token(session_name: str, token: CachedToken) -> Path:
    path = token_path(session_name)
    write_private_json(path, token.as_json())
    return path


def remove_token(session_name: str) -> bool:
    return remove_file(token_path(session_name))


# ---- client registrations ------------------------------------------------------------------------

@dataclass(frozen=True)
class Registration:
    client_id: str
    client_secret: str
    expires_at: datetime
    scopes: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        return {"clientId": self.client_id, "clientSecret": self.client_secret,
                "expiresAt": iso_z(self.expires_at), "scopes": list(self.scopes)}

    @classmethod
    def from_json(cls, data: Any) -> Registration | None:
        try:
            return cls(str(data["clientId"]), str(data["clientSecret"]), parse_time(str(data["expiresAt"])),
                       tuple(str(s) for s in data.get("scopes") or ()))
        except (KeyError, TypeError, ValueError, AttributeError):
            return None


def registration_key(start_url: str, region: str, scopes: tuple[str, ...], session_name: str) -> str:
    """AWS CLI v2's key (SSOTokenFetcher._registration_cache_key): sha1 of the sorted JSON of these five."""
    args = {"tool": "botocore", "startUrl": start_url, "region": region, "scopes": list(scopes),
            "session_name": session_name}
    return hashlib.sha1(json.dumps(args, sort_keys=True).encode("utf-8")).hexdigest()


def registration_path(key: str) -> Path:
    return cache_dir() / f"{key}.json"


def load_registration(key: str, now: datetime) -> Registration | None:
    """The cached registration, unless it expires within the reuse margin."""
    found = Registration.from_json(read_json(registration_path(key)))
    return found if found is not None and found.expires_at - now > REUSE_MARGIN else None


def save_registration(key: str, registration: Registration) -> None:
    write_private_json(registration_path(key), registration.as_json())


def forget_registration(key: str) -> None:
    registration_path(key).unlink(missing_ok=True)
