"""Configuration, read once from `VESTIBULE_*` environment variables at start."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any


class SettingsError(ValueError):
    """A configuration value is invalid; the message names the variable."""


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f"{name} must be on or off, not {raw!r}")


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, not {raw!r}") from None
    if not low <= value <= high:
        raise SettingsError(f"{name} must be between {low} and {high}, not {value}")
    return value


def _networks(env: Mapping[str, str], name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    """Addresses or CIDR ranges separated by commas or spaces, each normalised (`10.0.0.7` -> `10.0.0.7/32`)."""
    import ipaddress

    raw = env.get(name)
    if raw is None:
        return default
    out = []
    for part in raw.replace(",", " ").split():
        try:
            out.append(str(ipaddress.ip_network(part, strict=False)))
        except ValueError:
            raise SettingsError(f"{name}: {part!r} is not an IP address or CIDR range") from None
    return tuple(out)


def _choice(env: Mapping[str, str], name: str, default: str, choices: tuple[str, ...]) -> str:
    value = (env.get(name) or default).strip().lower()
    if value not in choices:
        raise SettingsError(f"{name} must be one of {', '.join(choices)}, not {env.get(name)!r}")
    return value


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path(".vestibule")
    database_url: str = ""
    redis_url: str = ""
    public_url: str = "http://127.0.0.1:8080"
    signup_enabled: bool = True
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_user: str = ""
    smtp_password: str = field(default="", repr=False)
    smtp_starttls: bool = False
    mail_from: str = "no-reply@vestibule.localhost"
    master_key: str = field(default="", repr=False)
    session_absolute_seconds: int = 12 * 3600
    session_idle_seconds: int = 3600
    root_session_idle_seconds: int = 15 * 60
    argon2_memory_kib: int = 19456
    argon2_time_cost: int = 2
    argon2_parallelism: int = 1
    huge_pages: bool = True  # `serve`: glibc's malloc puts large blocks (argon2id's work area) on huge pages
    dev_mailbox: bool = True
    log_level: str = "info"
    janitor_interval_seconds: int = 300
    janitor_retention_seconds: int = 86400
    mail_max_attempts: int = 8
    mail_retry_seconds: float = 10.0
    mail_retry_max_seconds: float = 600.0
    mail_poll_seconds: float = 5.0
    # production (issue 15, docs/deployment.md)
    trusted_proxies: tuple[str, ...] = ()  # CIDR ranges whose X-Forwarded-For / Forwarded are believed
    metrics_addresses: tuple[str, ...] = ("127.0.0.1/32", "::1/128")  # who may read /metrics without the token
    metrics_token: str = field(default="", repr=False)  # `Authorization: Bearer <token>` reads /metrics from anywhere
    log_format: str = "text"  # text | json (one JSON object per line)
    ready_outbox_stuck_seconds: int = 900  # /readyz fails when a due mail has waited longer than this
    config_file: str = ""  # the vestibule.toml these settings were read from, if any

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'vestibule.db').resolve()}"

    @property
    def public_is_https(self) -> bool:
        return self.public_url.startswith("https://")

    @property
    def public_origin(self) -> str:
        return self.public_url.rstrip("/")

    def masked(self) -> dict[str, object]:
        """Effective settings with secrets masked, for `vestibule config`."""
        out: dict[str, object] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in {"smtp_password", "master_key", "metrics_token"} and value:
                value = "********"
            if f.name in {"database_url", "redis_url"} and value and "@" in str(value):
                scheme, _, rest = str(value).partition("://")
                value = f"{scheme}://********@{rest.split('@', 1)[1]}"
            out[f.name] = str(value) if isinstance(value, Path) else list(value) if isinstance(value, tuple) else value
        out["effective_database_url"] = self.effective_database_url
        return out

    def with_overrides(self, **changes: Any) -> Settings:
        return replace(self, **changes)


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env
    public_url = env.get("VESTIBULE_PUBLIC_URL", "http://127.0.0.1:8080").rstrip("/")
    if not public_url.startswith(("http://", "https://")):
        raise SettingsError("VESTIBULE_PUBLIC_URL must start with http:// or https://")
    signup = env.get("VESTIBULE_SIGNUP", "on")
    return Settings(
        data_dir=Path(env.get("VESTIBULE_DATA_DIR", ".vestibule")),
        database_url=env.get("VESTIBULE_DATABASE_URL", ""),
        redis_url=env.get("VESTIBULE_REDIS_URL", ""),
        public_url=public_url,
        signup_enabled=_bool({"VESTIBULE_SIGNUP": signup}, "VESTIBULE_SIGNUP", True),
        smtp_host=env.get("VESTIBULE_SMTP_HOST", ""),
        smtp_port=_int(env, "VESTIBULE_SMTP_PORT", 25, 1, 65535),
        smtp_user=env.get("VESTIBULE_SMTP_USER", ""),
        smtp_password=env.get("VESTIBULE_SMTP_PASSWORD", ""),
        smtp_starttls=_bool(env, "VESTIBULE_SMTP_STARTTLS", False),
        mail_from=env.get("VESTIBULE_MAIL_FROM", "no-reply@vestibule.localhost"),
        master_key=env.get("VESTIBULE_MASTER_KEY", ""),
        session_absolute_seconds=_int(env, "VESTIBULE_SESSION_ABSOLUTE_SECONDS", 12 * 3600, 300, 30 * 86400),
        session_idle_seconds=_int(env, "VESTIBULE_SESSION_IDLE_SECONDS", 3600, 60, 30 * 86400),
        root_session_idle_seconds=_int(env, "VESTIBULE_ROOT_SESSION_IDLE_SECONDS", 900, 60, 86400),
        argon2_memory_kib=_int(env, "VESTIBULE_ARGON2_MEMORY_KIB", 19456, 1024, 4 * 1024 * 1024),
        argon2_time_cost=_int(env, "VESTIBULE_ARGON2_TIME_COST", 2, 1, 100),
        argon2_parallelism=_int(env, "VESTIBULE_ARGON2_PARALLELISM", 1, 1, 64),
        dev_mailbox=_bool(env, "VESTIBULE_DEV_MAILBOX", True),
        log_level=env.get("VESTIBULE_LOG_LEVEL", "info"),
        janitor_interval_seconds=_int(env, "VESTIBULE_JANITOR_INTERVAL_SECONDS", 300, 0, 86400),
        huge_pages=_bool(env, "VESTIBULE_HUGE_PAGES", True),
        janitor_retention_seconds=_int(env, "VESTIBULE_JANITOR_RETENTION_SECONDS", 86400, 0, 365 * 86400),
        mail_max_attempts=_int(env, "VESTIBULE_MAIL_MAX_ATTEMPTS", 8, 1, 100),
        mail_retry_seconds=_int(env, "VESTIBULE_MAIL_RETRY_SECONDS", 10, 1, 3600),
        mail_retry_max_seconds=_int(env, "VESTIBULE_MAIL_RETRY_MAX_SECONDS", 600, 1, 86400),
        mail_poll_seconds=_int(env, "VESTIBULE_MAIL_POLL_SECONDS", 5, 1, 3600),
        trusted_proxies=_networks(env, "VESTIBULE_TRUSTED_PROXIES", ()),
        metrics_addresses=_networks(env, "VESTIBULE_METRICS_ADDRESSES", ("127.0.0.1/32", "::1/128")),
        metrics_token=env.get("VESTIBULE_METRICS_TOKEN", ""),
        log_format=_choice(env, "VESTIBULE_LOG_FORMAT", "text", ("text", "json")),
        ready_outbox_stuck_seconds=_int(env, "VESTIBULE_READY_OUTBOX_STUCK_SECONDS", 900, 10, 7 * 86400),
    )


def new_master_key() -> str:
    return secrets.token_hex(32)
