"""Configuration, read once at start: an optional `vestibule.toml`, then `VESTIBULE_*` environment variables.

`ROWS` is the one table of settings: each row names a `Settings` field, its key (the TOML key, and the environment
variable `VESTIBULE_<KEY>`), how its value is parsed and checked, and whether it is a secret. The default is the
field's default. A new setting is a field and a row. docs/configuration.md describes the file.
"""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Protocol

from .config_file import ConfigDocument, ConfigFileError, describe, read_document, suggestion

ENV_PREFIX = "VESTIBULE_"
CONFIG_ENV = "VESTIBULE_CONFIG"


class SettingsError(ValueError):
    """A configuration value is invalid; the message names the variable, or the file and key."""

    def __init__(self, message: str, problems: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.problems = problems or (message,)


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
    audit_retention_days: int = 365  # 0: audit events are kept for ever
    mail_max_attempts: int = 8
    mail_retry_seconds: float = 10.0
    mail_retry_max_seconds: float = 600.0
    mail_poll_seconds: float = 5.0
    # read by http_protocol.py from the environment in each process; `serve` exports them (cli.py)
    http_head_timeout_seconds: float = 20.0
    http_body_timeout_seconds: float = 60.0
    # production (issue 15, docs/deployment.md)
    trusted_proxies: tuple[str, ...] = ()  # CIDR ranges whose X-Forwarded-For / Forwarded are believed
    metrics_addresses: tuple[str, ...] = ("127.0.0.1/32", "::1/128")  # who may read /metrics without the token
    metrics_token: str = field(default="", repr=False)  # `Authorization: Bearer <token>` reads /metrics from anywhere
    log_format: str = "text"  # text | json (one JSON object per line)
    ready_outbox_stuck_seconds: int = 900  # /readyz fails when a due mail has waited longer than this
    breached_passwords_file: Path | None = None  # the operator's breach corpus (range files or one sorted file)
    # federation (issue 12, docs/federation.md): OIDC discovery and JWKS over plain HTTP from loopback hosts only
    federation_insecure_loopback: bool = False
    config_file: str = ""  # the vestibule.toml these settings were read from, if any
    # fields set by the file or the environment (the rest are defaults); not printed
    configured: frozenset[str] = field(default=frozenset(), repr=False, compare=False)
    # of those, the fields the file set (no environment variable overrides them): for messages naming the source
    from_file: frozenset[str] = field(default=frozenset(), repr=False, compare=False)

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
        secret = {row.field: row.secret for row in ROWS}
        out: dict[str, object] = {}
        for f in fields(self):
            if f.name in ("configured", "from_file"):
                continue
            value = getattr(self, f.name)
            out[f.name] = _masked(value, secret.get(f.name, ""))
        out["effective_database_url"] = _masked(self.effective_database_url, "userinfo")
        return out

    def with_overrides(self, **changes: Any) -> Settings:
        return replace(self, **changes)


_SECRET_QUERY = re.compile(r"(?i)([?&](?:password|passwd|pass|pwd|secret|token)=)[^&#]*")


def _masked(value: object, secret: str) -> object:
    if secret == "value" and value:
        return "********"
    if secret == "userinfo" and value:
        text = _SECRET_QUERY.sub(r"\1********", str(value))  # ?password=... is a password too
        scheme, sep, rest = text.partition("://")
        authority = rest.split("/", 1)[0]
        if sep and "@" in authority:
            return f"{scheme}://********@{rest.split('@', 1)[1]}"
        return text
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, tuple):
        return list(value)
    return value


# --- how values are parsed: each kind reads an environment string and a TOML value ---------------------------


class _Invalid(Exception):
    """The text after the setting's name in a message: `must be between 1 and 65535, not 70000`."""


class Kind(Protocol):
    @property
    def empty_is_unset(self) -> bool:
        """An empty environment variable means "not set" (else it is the value "")."""
        ...

    def from_text(self, raw: str) -> object: ...

    def from_toml(self, value: object, base: Path) -> object:
        """`base`: the file's directory, for relative paths."""
        ...


def _wrong(what: str, value: object, unquote: bool = False) -> _Invalid:
    hint = " (write it without quotes)" if unquote and isinstance(value, str) else ""
    return _Invalid(f"must be {what}, not {describe(value)}{hint}")


@dataclass(frozen=True)
class Text:
    empty_is_unset: bool = False

    def from_text(self, raw: str) -> str:
        return raw

    def from_toml(self, value: object, base: Path) -> str:
        if not isinstance(value, str):
            raise _wrong("a string", value)
        return value


@dataclass(frozen=True)
class MasterKeys:
    """One master key (64 hex digits) or a keyring (several, with its `signing:` entry), as core/secretbox.py
    reads it; empty: `<data dir>/master.key`. Messages never repeat the value."""

    empty_is_unset: bool = False

    def from_text(self, raw: str) -> str:
        if raw.strip():
            from .core.secretbox import SecretBoxError, parse_keyring  # cryptography only when a key is set

            try:
                parse_keyring(raw)
            except SecretBoxError as exc:
                raise _Invalid(f"is not a master key or keyring: {exc}") from None
        return raw

    def from_toml(self, value: object, base: Path) -> str:
        if not isinstance(value, str):
            raise _Invalid("must be a string of 64 hexadecimal characters")
        return self.from_text(value)


@dataclass(frozen=True)
class Whole:
    low: int
    high: int
    empty_is_unset: bool = True

    def from_text(self, raw: str) -> int:
        try:
            value = int(raw)
        except ValueError:
            raise _Invalid(f"must be a whole number, not {raw!r}") from None
        return self._bounded(value)

    def from_toml(self, value: object, base: Path) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _wrong("a whole number", value, unquote=True)
        return self._bounded(value)

    def _bounded(self, value: int) -> int:
        if not self.low <= value <= self.high:
            raise _Invalid(f"must be between {self.low} and {self.high}, not {value}")
        return value


@dataclass(frozen=True)
class Seconds:
    low: float
    high: float
    empty_is_unset: bool = True

    def from_text(self, raw: str) -> float:
        try:
            value = float(raw)
        except ValueError:
            raise _Invalid(f"must be a number of seconds, not {raw!r}") from None
        return self._bounded(value)

    def from_toml(self, value: object, base: Path) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _wrong("a number of seconds", value, unquote=True)
        return self._bounded(float(value))

    def _bounded(self, value: float) -> float:
        if not self.low <= value <= self.high:  # also refuses nan
            raise _Invalid(f"must be between {self.low:g} and {self.high:g} seconds, not {value:g}")
        return value


@dataclass(frozen=True)
class Switch:
    empty_is_unset: bool = True

    def from_text(self, raw: str) -> bool:
        value = raw.strip().lower()
        if value in {"1", "true", "yes", "on"}:
            return True
        if value in {"0", "false", "no", "off"}:
            return False
        raise _Invalid(f"must be on or off, not {raw!r}")

    def from_toml(self, value: object, base: Path) -> bool:
        if not isinstance(value, bool):
            raise _wrong("true or false", value, unquote=True)
        return value


@dataclass(frozen=True)
class Choice:
    choices: tuple[str, ...]
    empty_is_unset: bool = True

    def from_text(self, raw: str) -> str:
        value = raw.strip().lower()
        if value not in self.choices:
            raise _Invalid(f"must be one of {', '.join(self.choices)}, not {raw!r}")
        return value

    def from_toml(self, value: object, base: Path) -> str:
        if not isinstance(value, str):
            raise _wrong(f"one of {', '.join(self.choices)}", value)
        return self.from_text(value)


@dataclass(frozen=True)
class Networks:
    """Addresses or CIDR ranges, each normalised (`10.0.0.7` -> `10.0.0.7/32`); in the environment separated by
    commas or spaces (empty: none), in the file a list of strings."""

    empty_is_unset: bool = False

    def from_text(self, raw: str) -> tuple[str, ...]:
        return self._normalised(raw.replace(",", " ").split())

    def from_toml(self, value: object, base: Path) -> tuple[str, ...]:
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise _Invalid(f'must be a list of addresses or CIDR ranges such as ["10.0.0.0/8"], not {describe(value)}')
        return self._normalised([str(item).strip() for item in value])

    @staticmethod
    def _normalised(parts: list[str]) -> tuple[str, ...]:
        out, bad = [], []
        for part in parts:
            try:
                out.append(str(ipaddress.ip_network(part, strict=False)))
            except ValueError:
                bad.append(repr(part))
        if bad:
            raise _Invalid(f"must be IP addresses or CIDR ranges: {', '.join(bad)} "
                           f"{'is not one' if len(bad) == 1 else 'are not'}")
        return tuple(out)


@dataclass(frozen=True)
class HttpUrl:
    empty_is_unset: bool = False

    def from_text(self, raw: str) -> str:
        if not raw.startswith(("http://", "https://")):
            raise _Invalid("must start with http:// or https://")
        return raw.rstrip("/")

    def from_toml(self, value: object, base: Path) -> str:
        if not isinstance(value, str):
            raise _wrong("a URL", value)
        return self.from_text(value)


@dataclass(frozen=True)
class DatabaseUrl:
    """Empty (SQLite in the data directory), or an SQLAlchemy URL of a supported driver."""

    empty_is_unset: bool = False
    drivers: tuple[str, ...] = ("sqlite+aiosqlite", "postgresql+asyncpg")

    def from_text(self, raw: str) -> str:
        if not raw:
            return raw
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            url = make_url(raw)
            port = url.port
        except (ArgumentError, ValueError):
            raise _Invalid("is not a database URL (such as postgresql+asyncpg://user@host:5432/vestibule): its "
                           "form or port is wrong") from None
        if url.drivername not in self.drivers:
            hint = " (write postgresql+asyncpg://)" if url.drivername.startswith("postgres") else ""
            raise _Invalid(f"must use one of the drivers {', '.join(self.drivers)}, not {url.drivername!r}{hint}")
        if port is not None and not 0 < port < 65536:
            raise _Invalid(f"has port {port}, which is not between 1 and 65535")
        if url.drivername.startswith("postgresql") and not url.database:
            raise _Invalid("names no database (postgresql+asyncpg://user@host:5432/<database>)")
        return raw

    def from_toml(self, value: object, base: Path) -> str:
        if not isinstance(value, str):
            raise _wrong("a URL", value)
        return self.from_text(value)


@dataclass(frozen=True)
class RedisUrl:
    """Empty (no Redis), or redis://, rediss:// (host, a numeric port, a numeric database) or unix://."""

    empty_is_unset: bool = False

    def from_text(self, raw: str) -> str:
        if not raw:
            return raw
        from urllib.parse import urlsplit

        try:
            parts = urlsplit(raw)
            port = parts.port
        except ValueError:
            raise _Invalid("is not a Redis URL (such as redis://127.0.0.1:6379/0): its form or port is "
                           "wrong") from None
        if parts.scheme not in ("redis", "rediss", "unix"):
            raise _Invalid("must start with redis://, rediss:// or unix://")
        if parts.scheme == "unix":
            if not parts.path:
                raise _Invalid("must name the socket: unix:///run/redis/redis.sock")
            return raw
        if not parts.hostname:
            raise _Invalid("names no host (redis://host:6379/0)")
        if port == 0:
            raise _Invalid("has port 0")
        database = parts.path.strip("/")
        if database and not database.isdigit():
            raise _Invalid(f"must end with a database number (redis://host:6379/0), not /{database}")
        return raw

    def from_toml(self, value: object, base: Path) -> str:
        if not isinstance(value, str):
            raise _wrong("a URL", value)
        return self.from_text(value)


@dataclass(frozen=True)
class Token:
    """Empty (none), or a secret of at least `min_length` characters (a short bearer token is guessed)."""

    min_length: int
    empty_is_unset: bool = False

    def from_text(self, raw: str) -> str:
        if raw and len(raw) < self.min_length:
            raise _Invalid(f"must be at least {self.min_length} characters long (it has {len(raw)}): "
                           "make one with `openssl rand -hex 32`")
        return raw

    def from_toml(self, value: object, base: Path) -> str:
        if not isinstance(value, str):
            raise _wrong("a string", value)
        return self.from_text(value)


@dataclass(frozen=True)
class Directory:
    """In the environment relative to the working directory; in the file relative to the file's directory."""

    empty_is_unset: bool = True

    def from_text(self, raw: str) -> Path:
        return Path(raw)

    def from_toml(self, value: object, base: Path) -> Path:
        if not isinstance(value, str):
            raise _wrong("a path", value)
        if not value:
            raise _Invalid("must be a path, not an empty string")
        path = Path(value).expanduser()
        return path if path.is_absolute() else base / path


@dataclass(frozen=True)
class BreachedPasswordsFile:
    """A directory of `<PREFIX>.txt` range files or one sorted `SHA1:COUNT` file, checked when read (it exists, can
    be read, its first lines are in the format: core/breached_passwords.py); the file's paths are relative to it."""

    empty_is_unset: bool = True

    def from_text(self, raw: str) -> Path:
        return self._checked(Path(raw))

    def from_toml(self, value: object, base: Path) -> Path:
        if not isinstance(value, str) or not value:
            raise _wrong("a path", value)
        path = Path(value).expanduser()
        return self._checked(path if path.is_absolute() else base / path)

    @staticmethod
    def _checked(path: Path) -> Path:
        from .core.breached_passwords import BreachedListError, open_corpus

        try:
            corpus = open_corpus(path)
        except BreachedListError as exc:
            raise _Invalid(f"is not usable: {exc}") from None
        close = getattr(corpus, "close", None)
        if close is not None:
            close()
        return path


@dataclass(frozen=True)
class Row:
    field: str
    kind: Kind
    key: str = ""  # the TOML key and `VESTIBULE_<KEY>`, when not the field's name
    secret: str = ""  # "value": masked whole; "userinfo": a URL's user and password masked

    @property
    def toml_key(self) -> str:
        return self.key or self.field

    @property
    def env(self) -> str:
        return ENV_PREFIX + self.toml_key.upper()


_LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")  # uvicorn's

ROWS: tuple[Row, ...] = (
    Row("data_dir", Directory()),
    Row("database_url", DatabaseUrl(), secret="userinfo"),
    Row("redis_url", RedisUrl(), secret="userinfo"),
    Row("public_url", HttpUrl()),
    Row("signup_enabled", Switch(), key="signup"),
    Row("smtp_host", Text()),
    Row("smtp_port", Whole(1, 65535)),
    Row("smtp_user", Text()),
    Row("smtp_password", Text(), secret="value"),
    Row("smtp_starttls", Switch()),
    Row("mail_from", Text()),
    Row("master_key", MasterKeys(), secret="value"),
    Row("session_absolute_seconds", Whole(300, 30 * 86400)),
    Row("session_idle_seconds", Whole(60, 30 * 86400)),
    Row("root_session_idle_seconds", Whole(60, 86400)),
    Row("argon2_memory_kib", Whole(1024, 4 * 1024 * 1024)),
    Row("argon2_time_cost", Whole(1, 100)),
    Row("argon2_parallelism", Whole(1, 64)),
    Row("huge_pages", Switch()),
    Row("dev_mailbox", Switch()),
    Row("log_level", Choice(_LOG_LEVELS)),
    Row("janitor_interval_seconds", Whole(0, 86400)),
    Row("janitor_retention_seconds", Whole(0, 365 * 86400)),
    Row("audit_retention_days", Whole(0, 100 * 365)),
    Row("mail_max_attempts", Whole(1, 100)),
    Row("mail_retry_seconds", Whole(1, 3600)),
    Row("mail_retry_max_seconds", Whole(1, 86400)),
    Row("mail_poll_seconds", Whole(1, 3600)),
    Row("http_head_timeout_seconds", Seconds(0.5, 3600)),
    Row("http_body_timeout_seconds", Seconds(0.5, 3600)),
    Row("trusted_proxies", Networks()),
    Row("metrics_addresses", Networks()),
    Row("metrics_token", Token(16), secret="value"),
    Row("log_format", Choice(("text", "json"))),
    Row("ready_outbox_stuck_seconds", Whole(10, 7 * 86400)),
    Row("breached_passwords_file", BreachedPasswordsFile()),
    Row("federation_insecure_loopback", Switch()),
)
_BY_KEY = {row.toml_key: row for row in ROWS}
_DERIVED = {"config_file": "it is the file's own path", "effective_database_url": "set database_url or data_dir"}
# VESTIBULE_* variables that are not settings: the file's path, and what `serve` passes to its own processes
_OTHER_ENV = {CONFIG_ENV, "VESTIBULE_SERVE_LOOPBACK", "VESTIBULE_LAUNCHED_AS"}


@dataclass(frozen=True)
class Configuration:
    """What `read_configuration` found: the settings when there is no problem, every problem (one line each),
    and warnings that do not stop a start."""

    settings: Settings | None
    problems: tuple[str, ...]
    warnings: tuple[str, ...]

    def settings_or_error(self) -> Settings:
        """The settings, or SettingsError naming the first problem (and how many more there are)."""
        if self.settings is None:
            first, more = self.problems[0], len(self.problems) - 1
            suffix = f" (and {more} more problem{'s' if more > 1 else ''}: `vestibule config check` lists them)"
            raise SettingsError(first + (suffix if more else ""), self.problems)
        return self.settings


def read_configuration(env: Mapping[str, str] | None = None,
                       config_file: str | os.PathLike[str] | None = None) -> Configuration:
    """Settings from the file (`config_file`, else `$VESTIBULE_CONFIG`, else none) overridden by the environment.
    Every value is checked, a file value that the environment overrides too; nothing stops at the first problem."""
    env = os.environ if env is None else env
    chosen = str(config_file) if config_file is not None else env.get(CONFIG_ENV, "")
    problems: list[str] = []
    warnings: list[str] = []
    document: ConfigDocument | None = None
    if chosen:
        try:
            document = read_document(Path(chosen))
        except ConfigFileError as exc:
            problems.append(str(exc))
    from_file = _file_values(document, problems, warnings) if document else {}
    values: dict[str, Any] = {}  # each kind returns its field's type
    file_set: set[str] = set()
    for row in ROWS:
        raw = env.get(row.env)
        if raw is not None and not (raw == "" and row.kind.empty_is_unset):
            try:
                values[row.field] = row.kind.from_text(raw)
            except _Invalid as exc:
                problems.append(f"{row.env} {exc}")
        elif row.field in from_file:
            values[row.field] = from_file[row.field]
            file_set.add(row.field)
    if problems:
        return Configuration(None, tuple(problems), tuple(warnings))
    everyone = [cidr for cidr in values.get("trusted_proxies", ()) if cidr.endswith("/0")]
    if everyone:
        warnings.append(f"trusted_proxies holds {', '.join(everyone)}: every client may then claim any address in "
                        "X-Forwarded-For or Forwarded (throttling, audit events and /metrics trust it); list only "
                        "your proxies' addresses")
    settings = replace(Settings(), **values, config_file=str(document.path) if document else "",
                       configured=frozenset(values), from_file=frozenset(file_set))
    return Configuration(settings, (), tuple(warnings))


def _file_values(document: ConfigDocument, problems: list[str], warnings: list[str]) -> dict[str, object]:
    values: dict[str, object] = {}
    aliases = {row.field: row.toml_key for row in ROWS if row.key}
    base = document.path.parent
    for key, value in document.values.items():
        where = document.where(key)
        row = _BY_KEY.get(key)
        if row is None:
            problems.append(f"{where}: {_unknown(key, value, aliases)}")
            continue
        try:
            values[row.field] = row.kind.from_toml(value, base)
        except _Invalid as exc:
            problems.append(f"{where}: {key} {exc}")
    held = [row.toml_key for row in ROWS if row.field in values and _is_secret(row, values[row.field])]
    if held and document.readable_by_others:
        warnings.append(f"{document.path} holds {', '.join(held)} and others may read it (mode "
                        f"{document.mode:04o}): chmod 600 {document.path}")
    return values


def _is_secret(row: Row, value: object) -> bool:
    if row.secret == "value":
        return bool(value)
    if row.secret == "userinfo":
        userinfo = str(value).partition("://")[2].rpartition("@")[0]
        return ":" in userinfo or bool(_SECRET_QUERY.search(str(value)))
    return False


def _unknown(key: str, value: object, aliases: Mapping[str, str]) -> str:
    if key in _DERIVED:
        return f"{key} is shown by `vestibule config` but is not a setting ({_DERIVED[key]})"
    if isinstance(value, dict):
        meant = [f"{key}_{sub}" for sub in value if f"{key}_{sub}" in _BY_KEY]
        if meant:
            return (f"[{key}] is a table, but settings are top-level keys: write "
                    f"{', '.join(f'{name} = ...' for name in meant)} before any table")
        return f"unknown table [{key}] (settings are top-level keys, not tables)"
    meant_key = suggestion(key, _BY_KEY, aliases)
    return f"unknown setting {key}" + (f" (did you mean {meant_key}?)" if meant_key else "")


def unknown_environment(env: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """`VESTIBULE_*` variables that are no setting (a misspelt name is otherwise ignored), for `config check`."""
    env = os.environ if env is None else env
    known = {row.env for row in ROWS} | _OTHER_ENV
    aliases = {row.field: row.toml_key for row in ROWS if row.key}
    out = []
    for name in sorted(env):
        if not name.startswith(ENV_PREFIX) or name in known or name.startswith("VESTIBULE_TEST_"):
            continue
        meant = suggestion(name, _BY_KEY, aliases)
        out.append(f"{name} is not a Vestibule setting and is ignored"
                   + (f" (did you mean {ENV_PREFIX}{meant.upper()}?)" if meant else ""))
    return tuple(out)


def load_settings(env: Mapping[str, str] | None = None,
                  config_file: str | os.PathLike[str] | None = None) -> Settings:
    """The settings, or SettingsError naming the first problem (and how many more there are)."""
    return read_configuration(env, config_file).settings_or_error()


def defaults() -> dict[str, object]:
    """Each row's default (the field's), by TOML key: for docs and tests."""
    by_field = {f.name: f.default for f in fields(Settings) if f.default is not MISSING}
    return {row.toml_key: by_field[row.field] for row in ROWS}


def new_master_key() -> str:
    return secrets.token_hex(32)
