"""The token cache file is where, named and shaped as botocore reads it; registrations are cached as CLI v2."""

from __future__ import annotations

import hashlib
import json
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from botocore.utils import JSONFileCache, SSOTokenLoader

from vestibule.client import token_cache
from vestibule.client.token_cache import CachedToken, Registration

NOW = datetime(2026, 12, 2, 17, 0, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HOME", str(tmp_path))
    return tmp_path


def _token(expires: datetime = NOW + timedelta(hours=1)) -> CachedToken:
    return CachedToken("http://127.0.0.1:8080/portal/d-1234567890/start", "us-east-1", "ACCESS", expires,
                       "REFRESH", "CLIENT", "SECRET", NOW + timedelta(days=90))


def test_file_name_is_sha1_of_the_session_name(home: Path) -> None:
    assert token_cache.token_path("my-sso") == home / ".aws/sso/cache/0ad374308c5a4e22f723adf10145eafad7c4031c.json"


def test_saved_token_has_exactly_the_fields_botocore_reads(home: Path) -> None:
    path = token_cache.save_token("my-sso", _token())
    data = json.loads(path.read_text())
    assert data == {"startUrl": "http://127.0.0.1:8080/portal/d-1234567890/start", "region": "us-east-1",
                    "accessToken": "ACCESS", "expiresAt": "2026-12-02T18:00:00Z", "refreshToken": "REFRESH",
                    "clientId": "CLIENT", "clientSecret": "SECRET", "registrationExpiresAt": "2027-03-02T17:00:00Z"}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert [p.name for p in path.parent.iterdir()] == [path.name], "written atomically: no temporary file left"
    loaded = SSOTokenLoader(cache=JSONFileCache(str(home / ".aws/sso/cache")))(
        "http://127.0.0.1:8080/portal/d-1234567890/start", session_name="my-sso")
    assert loaded["accessToken"] == "ACCESS" and loaded["refreshToken"] == "REFRESH"
    assert token_cache.load_token("my-sso") == _token()


def test_overwrite_and_remove(home: Path) -> None:
    token_cache.save_token("s", _token())
    token_cache.save_token("s", _token(NOW + timedelta(minutes=5)))
    kept = token_cache.load_token("s")
    assert kept is not None and kept.expires_at == NOW + timedelta(minutes=5)
    assert not kept.usable(NOW, kept.start_url), "less than 15 minutes left: botocore would refresh it"
    assert _token().usable(NOW, kept.start_url) and not _token().usable(NOW, "http://other/portal/x/start")
    assert token_cache.remove_token("s") and not token_cache.remove_token("s")
    assert token_cache.load_token("s") is None


def test_a_foreign_or_broken_file_is_no_token(home: Path) -> None:
    path = token_cache.token_path("s")
    path.parent.mkdir(parents=True)
    path.write_text('{"accessToken": "x", "expiresAt": "2026-12-02T18:00:00Z"}')
    assert token_cache.load_token("s") is None
    path.write_text("not json")
    assert token_cache.load_token("s") is None


def test_registration_cache_key_and_reuse(home: Path) -> None:
    key = token_cache.registration_key("https://x/portal/d-1/start", "us-east-1", ("sso:account:access",), "my-sso")
    expected = ('{"region": "us-east-1", "scopes": ["sso:account:access"], "session_name": "my-sso", '
                '"startUrl": "https://x/portal/d-1/start", "tool": "botocore"}')
    assert key == hashlib.sha1(expected.encode()).hexdigest()
    token_cache.save_registration(key, Registration("C", "S", NOW + timedelta(days=90), ("sso:account:access",)))
    saved = json.loads((home / ".aws/sso/cache" / f"{key}.json").read_text())
    assert saved == {"clientId": "C", "clientSecret": "S", "expiresAt": "2027-03-02T17:00:00Z",
                     "scopes": ["sso:account:access"]}
    assert token_cache.load_registration(key, NOW) is not None
    assert token_cache.load_registration(key, NOW + timedelta(days=90) - timedelta(minutes=10)) is None
    token_cache.forget_registration(key)
    assert token_cache.load_registration(key, NOW) is None
