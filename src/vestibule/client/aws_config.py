"""The AWS shared config file (`~/.aws/config`, or `$AWS_CONFIG_FILE`): read the `[sso-session NAME]` and
`[profile NAME]` sections sign-in needs, and change or add sections line by line, so every other section,
comment and blank line stays as the user wrote it. Keys are read case-insensitively, as botocore's
configparser does; a nested value (`s3 =` followed by indented lines) is kept whole."""

from __future__ import annotations

import os
import re
import tempfile
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .errors import ConfigProblem

DEFAULT_SCOPES = ("sso:account:access",)
_HEADER = re.compile(r"^\s*\[([^\]]+)\]\s*(?:[#;].*)?$")
_KEY = re.compile(r"^([^\s=:#;\[][^=:]*?)\s*[=:]\s?(.*)$")
_SAFE_KEY = re.compile(r"[A-Za-z0-9_.-]+")  # what this writer names: sso_start_url, endpoint_url, ...

# A value that is a mapping is written as a nested block, as `[services NAME]` needs:
#   sts =
#     endpoint_url = http://...
Value = str | Mapping[str, str]


def config_path() -> Path:
    """`$AWS_CONFIG_FILE` when set (with `~` expanded), else `~/.aws/config`, as botocore resolves it."""
    configured = os.environ.get("AWS_CONFIG_FILE")
    return Path(configured).expanduser() if configured else Path.home() / ".aws" / "config"


def profile_header(name: str) -> str:
    return "default" if name == "default" else f"profile {name}"


def session_header(name: str) -> str:
    return f"sso-session {name}"


def services_header(name: str) -> str:
    return f"services {name}"


def _normal(header: str) -> str:
    return " ".join(header.split())


@dataclass(frozen=True)
class SsoSession:
    name: str
    start_url: str
    region: str
    registration_scopes: tuple[str, ...] = DEFAULT_SCOPES


@dataclass(frozen=True)
class SsoProfile:
    name: str
    sso_session: str
    account_id: str
    role_name: str
    region: str | None = None


class ConfigFile:
    """One config file as lines; `sections()` parses, `set_section()` edits, `save()` writes it back whole."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.lines = text.splitlines(keepends=True)

    @classmethod
    def load(cls, path: Path | None = None) -> ConfigFile:
        path = path or config_path()
        try:
            text = path.read_bytes().decode("utf-8-sig")  # a leading BOM is dropped, and not written back
        except FileNotFoundError:
            text = ""
        except OSError as exc:
            raise ConfigProblem(f"cannot read {path}: {exc.strerror or exc}") from None
        except UnicodeDecodeError as exc:
            raise ConfigProblem(f"{path} is not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset "
                                f"{exc.start}); save it as UTF-8 and try again") from None
        return cls(path, text)

    # -- reading

    def _spans(self) -> list[tuple[str, int, int]]:
        """(normalized header, index of the header line, index after the section's last line)."""
        heads = [(i, _normal(m.group(1))) for i, line in enumerate(self.lines) if (m := _HEADER.match(line))]
        ends = [i for i, _ in heads[1:]] + [len(self.lines)] if heads else []
        return [(name, start, end) for (start, name), end in zip(heads, ends, strict=True)]

    def sections(self) -> dict[str, dict[str, str]]:
        """Header -> top-level keys (lower case) and values; nested blocks are left out."""
        found: dict[str, dict[str, str]] = {}
        for name, start, end in self._spans():
            values = found.setdefault(name, {})
            for line in self.lines[start + 1:end]:
                if line[:1] in (" ", "\t"):
                    continue
                m = _KEY.match(line.rstrip("\r\n"))
                if m:
                    values[m.group(1).strip().lower()] = m.group(2).strip()
        return found

    def section(self, header: str) -> dict[str, str] | None:
        return self.sections().get(_normal(header))

    def sso_session(self, name: str) -> SsoSession:
        values = self.section(session_header(name))
        if values is None:
            raise ConfigProblem(f"there is no [sso-session {name}] in {self.path}; "
                                f"run: vestibule sso configure --sso-session {name}")
        missing = [k for k in ("sso_start_url", "sso_region") if not values.get(k)]
        if missing:
            raise ConfigProblem(f"[sso-session {name}] in {self.path} has no {' or '.join(missing)}")
        scopes = tuple(s.strip() for s in values.get("sso_registration_scopes", "").split(",") if s.strip())
        return SsoSession(name, values["sso_start_url"], values["sso_region"], scopes or DEFAULT_SCOPES)

    def sso_profile(self, name: str) -> SsoProfile:
        values = self.section(profile_header(name))
        if values is None and name == "default":
            values = self.section("profile default")
        if values is None:
            raise ConfigProblem(f"there is no profile {name!r} in {self.path}; "
                                f"run: vestibule sso configure --profile {name}")
        session = values.get("sso_session")
        if not session:
            hint = (" (it names sso_start_url itself; sign-in needs an [sso-session] section)"
                    if values.get("sso_start_url") else "")
            raise ConfigProblem(f"profile {name!r} in {self.path} has no sso_session{hint}; "
                                f"run: vestibule sso configure --profile {name}")
        return SsoProfile(name, session, values.get("sso_account_id", ""), values.get("sso_role_name", ""),
                          values.get("region") or None)

    def session_names(self) -> list[str]:
        return [h.split(" ", 1)[1] for h in self.sections() if h.startswith("sso-session ")]

    # -- changing

    def set_section(self, header: str, values: Mapping[str, Value]) -> None:
        """Give `header` these keys: replace a key's line (and its nested block) where it is, add the others
        after the section's last line, and add the section at the end when it is not there. Refuses (and changes
        nothing) a header, key or value that could end its line or start a section (see `check_section`)."""
        check_section(header, values)
        spans = [s for s in self._spans() if s[0] == _normal(header)]
        if not spans:
            if self.lines and not self.lines[-1].endswith("\n"):
                self.lines[-1] += "\n"
            if self.lines and self.lines[-1].strip():
                self.lines.append("\n")
            self.lines.append(f"[{header}]\n")
            for key, value in values.items():
                self.lines.extend(_render(key, value))
            return
        _, start, end = spans[-1]
        remaining = dict(values)
        section = self.lines[start:end]
        out = [section[0]]
        i = 1
        while i < len(section):
            line = section[i]
            m = None if line[:1] in (" ", "\t") else _KEY.match(line.rstrip("\r\n"))
            i += 1
            if m is None:
                out.append(line)
                continue
            key = m.group(1).strip().lower()
            match = next((k for k in remaining if k.lower() == key), None)
            if match is None:
                out.append(line)
                continue
            while i < len(section) and section[i][:1] in (" ", "\t") and section[i].strip():
                i += 1  # the old value's nested block
            out.extend(_render(match, remaining.pop(match)))
        last = len(out)
        while last > 1 and not out[last - 1].strip():
            last -= 1
        if last and not out[last - 1].endswith("\n"):
            out[last - 1] += "\n"
        added = [line for key, value in remaining.items() for line in _render(key, value)]
        self.lines[start:end] = out[:last] + added + out[last:]

    def save(self) -> None:
        """Write the whole file atomically (a new file beside it, then rename), keeping its mode; a new file is
        readable by its owner only. A symlinked file (a dotfile manager's) is written where the link points, so it
        stays a link."""
        target = Path(os.path.realpath(self.path))
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            mode = target.stat().st_mode & 0o777
        except FileNotFoundError:
            mode = 0o600
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".config-", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write("".join(self.lines))
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, mode)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def _unsafe(text: str) -> str | None:
    """The first character that could end a line of the file (CR, LF, any control character, a Unicode line or
    paragraph separator), if any."""
    return next((c for c in text if unicodedata.category(c) in ("Cc", "Zl", "Zp")), None)


def check_value(what: str, text: str) -> None:
    """Refuse a value that would end its line: what follows could be a new section or key, such as a
    `credential_process` command botocore runs."""
    bad = _unsafe(text)
    if bad is not None:
        raise ConfigProblem(f"refusing to write {what} {text!r} to the AWS config file: it contains the control "
                            f"character U+{ord(bad):04X}; nothing was written")


def check_section(header: str, values: Mapping[str, Value]) -> None:
    """Every header, key and value `set_section` would write stays on its own line and in its own section."""
    check_value("the section name", header)
    if not header.strip() or "[" in header or "]" in header:
        raise ConfigProblem(f"refusing to write the section [{header}] to the AWS config file: a section name "
                            "cannot be empty or contain [ or ]; nothing was written")
    for key, value in values.items():
        keys = [key, *(value.keys() if not isinstance(value, str) else ())]
        for name in keys:
            if not _SAFE_KEY.fullmatch(name):
                raise ConfigProblem(f"refusing to write the key {name!r} to the AWS config file (letters, digits, "
                                    "_ . - only); nothing was written")
        for text in [value] if isinstance(value, str) else list(value.values()):
            check_value(f"the value of {key}", text)


def _render(key: str, value: Value) -> list[str]:
    if isinstance(value, str):
        return [f"{key} = {value}\n"]
    return [f"{key} =\n", *(f"  {k} = {v}\n" for k, v in value.items())]
