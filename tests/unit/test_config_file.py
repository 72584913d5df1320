"""The settings table and `vestibule.toml`: every field has one row, old environment names and defaults are kept,
the environment overrides the file, every problem is reported naming the file, line and key (or the variable),
unknown keys are refused with a did-you-mean, and a secret in a file others may read is a warning."""

from __future__ import annotations

import os
from dataclasses import fields
from pathlib import Path

import pytest

from vestibule.settings import (
    ROWS,
    Settings,
    SettingsError,
    defaults,
    load_settings,
    read_configuration,
    unknown_environment,
)

# Every environment variable Vestibule read before the file existed (tests and deployments rely on them).
OLD_ENV_NAMES = {
    "VESTIBULE_DATA_DIR", "VESTIBULE_DATABASE_URL", "VESTIBULE_REDIS_URL", "VESTIBULE_PUBLIC_URL", "VESTIBULE_SIGNUP",
    "VESTIBULE_SMTP_HOST", "VESTIBULE_SMTP_PORT", "VESTIBULE_SMTP_USER", "VESTIBULE_SMTP_PASSWORD",
    "VESTIBULE_SMTP_STARTTLS", "VESTIBULE_MAIL_FROM", "VESTIBULE_MASTER_KEY", "VESTIBULE_SESSION_ABSOLUTE_SECONDS",
    "VESTIBULE_SESSION_IDLE_SECONDS", "VESTIBULE_ROOT_SESSION_IDLE_SECONDS", "VESTIBULE_ARGON2_MEMORY_KIB",
    "VESTIBULE_ARGON2_TIME_COST", "VESTIBULE_ARGON2_PARALLELISM", "VESTIBULE_DEV_MAILBOX", "VESTIBULE_LOG_LEVEL",
    "VESTIBULE_JANITOR_INTERVAL_SECONDS", "VESTIBULE_HUGE_PAGES", "VESTIBULE_JANITOR_RETENTION_SECONDS",
    "VESTIBULE_MAIL_MAX_ATTEMPTS", "VESTIBULE_MAIL_RETRY_SECONDS", "VESTIBULE_MAIL_RETRY_MAX_SECONDS",
    "VESTIBULE_MAIL_POLL_SECONDS", "VESTIBULE_TRUSTED_PROXIES", "VESTIBULE_METRICS_ADDRESSES",
    "VESTIBULE_METRICS_TOKEN", "VESTIBULE_LOG_FORMAT", "VESTIBULE_READY_OUTBOX_STUCK_SECONDS",
    "VESTIBULE_HTTP_HEAD_TIMEOUT_SECONDS", "VESTIBULE_HTTP_BODY_TIMEOUT_SECONDS",
}


def write(tmp_path: Path, text: str, mode: int = 0o600, name: str = "vestibule.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    path.chmod(mode)
    return path


def problems_of(path: Path, env: dict[str, str] | None = None) -> list[str]:
    found = read_configuration(env or {}, path)
    assert found.settings is None, "expected problems"
    return list(found.problems)


def test_one_row_per_field_and_the_old_environment_names_and_defaults() -> None:
    settable = {f.name for f in fields(Settings)} - {"config_file", "configured", "from_file"}
    assert sorted(row.field for row in ROWS) == sorted(settable)
    assert len({row.env for row in ROWS}) == len(ROWS)
    assert OLD_ENV_NAMES - {row.env for row in ROWS} == set()
    assert load_settings({}) == Settings()
    assert defaults()["signup"] is True and defaults()["smtp_port"] == 25
    assert defaults()["metrics_addresses"] == ("127.0.0.1/32", "::1/128")
    assert defaults()["ready_outbox_stuck_seconds"] == 900 and defaults()["http_head_timeout_seconds"] == 20.0


def test_the_configuration_page_names_every_key_and_variable() -> None:
    page = (Path(__file__).parents[2] / "docs" / "configuration.md").read_text()
    table = page[page.index("## Settings"):page.index("## Storage")]
    assert [row.toml_key for row in ROWS if f"`{row.toml_key}`" not in table] == []
    assert [row.env for row in ROWS if row.env not in table and f"_{row.env.split('_', 2)[2]}`" not in table] == []


def test_environment_only_as_before() -> None:
    settings = load_settings({"VESTIBULE_SMTP_PORT": "2525", "VESTIBULE_SIGNUP": "off",
                              "VESTIBULE_TRUSTED_PROXIES": "10.0.0.7, 2001:db8::/32", "VESTIBULE_LOG_LEVEL": "DEBUG",
                              "VESTIBULE_PUBLIC_URL": "https://id.example.com/", "VESTIBULE_MAIL_RETRY_SECONDS": ""})
    assert (settings.smtp_port, settings.signup_enabled, settings.log_level) == (2525, False, "debug")
    assert settings.trusted_proxies == ("10.0.0.7/32", "2001:db8::/32")
    assert settings.public_url == "https://id.example.com" and settings.mail_retry_seconds == 10
    assert settings.config_file == "" and "smtp_port" in settings.configured and "smtp_host" not in settings.configured
    with pytest.raises(SettingsError, match="VESTIBULE_PUBLIC_URL must start with http"):
        load_settings({"VESTIBULE_PUBLIC_URL": "id.example.com"})
    with pytest.raises(SettingsError, match="VESTIBULE_LOG_FORMAT must be one of text, json"):
        load_settings({"VESTIBULE_LOG_FORMAT": "xml"})
    with pytest.raises(SettingsError, match="VESTIBULE_SMTP_STARTTLS must be on or off"):
        load_settings({"VESTIBULE_SMTP_STARTTLS": "maybe"})


def test_file_values_and_the_environment_overriding_them(tmp_path: Path) -> None:
    path = write(tmp_path, """
public_url = "https://id.example.com"
signup = false
smtp_host = "mail.example.com"
smtp_port = 587
trusted_proxies = ["10.0.0.0/8", "192.168.1.7"]
metrics_addresses = []
http_body_timeout_seconds = 2.5
log_format = "json"
""")
    settings = load_settings({}, path)
    assert settings.public_url == "https://id.example.com" and settings.signup_enabled is False
    assert (settings.smtp_host, settings.smtp_port) == ("mail.example.com", 587)
    assert settings.trusted_proxies == ("10.0.0.0/8", "192.168.1.7/32") and settings.metrics_addresses == ()
    assert settings.http_body_timeout_seconds == 2.5 and settings.log_format == "json"
    assert settings.config_file == str(path) and Path(settings.config_file).is_absolute()
    assert {"public_url", "signup_enabled", "smtp_port"} <= settings.configured

    env = {"VESTIBULE_SMTP_PORT": "2525", "VESTIBULE_SIGNUP": "on", "VESTIBULE_SMTP_HOST": "",
           "VESTIBULE_TRUSTED_PROXIES": "", "VESTIBULE_LOG_FORMAT": ""}
    over = load_settings(env, path)
    assert (over.smtp_port, over.signup_enabled) == (2525, True)
    assert over.smtp_host == ""  # an empty string is a value for text settings: no SMTP
    assert over.trusted_proxies == ()  # and for address lists: none
    assert over.log_format == "json"  # for numbers, switches and choices it means "not set": the file's value


def test_the_file_is_found_through_vestibule_config_and_an_explicit_path_wins(tmp_path: Path) -> None:
    one = write(tmp_path, "smtp_port = 1025\n", name="one.toml")
    two = write(tmp_path, "smtp_port = 2025\n", name="two.toml")
    assert load_settings({"VESTIBULE_CONFIG": str(one)}).smtp_port == 1025
    assert load_settings({"VESTIBULE_CONFIG": str(one)}, two).smtp_port == 2025
    assert load_settings({"VESTIBULE_CONFIG": ""}).config_file == ""


def test_data_dir_in_the_file_is_relative_to_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    etc = tmp_path / "etc"
    etc.mkdir()
    monkeypatch.chdir(tmp_path)
    path = write(etc, 'data_dir = "state"\n')
    assert load_settings({}, path).data_dir == etc / "state"
    assert load_settings({}, write(etc, 'data_dir = "/var/lib/vestibule"\n')).data_dir == Path("/var/lib/vestibule")
    assert load_settings({"VESTIBULE_DATA_DIR": "here"}, path).data_dir == Path("here")  # the environment: cwd
    assert problems_of(write(etc, 'data_dir = ""\n')) == [f"{etc / 'vestibule.toml'}:1: data_dir must be a path, "
                                                          "not an empty string"]


def test_unknown_keys_are_errors_with_a_did_you_mean(tmp_path: Path) -> None:
    path = write(tmp_path, """smtp_hots = "mail"
VESTIBULE_PUBLIC_URL = "https://id.example.com"
signup_enabled = false
completely_different = 1
config_file = "/etc/vestibule.toml"

[smtp]
host = "mail"
port = 25

[logging]
level = "debug"
""")
    assert problems_of(path) == [
        f"{path}:1: unknown setting smtp_hots (did you mean smtp_host?)",
        f"{path}:2: unknown setting VESTIBULE_PUBLIC_URL (did you mean public_url?)",
        f"{path}:3: unknown setting signup_enabled (did you mean signup?)",
        f"{path}:4: unknown setting completely_different",
        f"{path}:5: config_file is shown by `vestibule config` but is not a setting (it is the file's own path)",
        f"{path}:7: [smtp] is a table, but settings are top-level keys: write smtp_host = ..., smtp_port = ... "
        "before any table",
        f"{path}:11: unknown table [logging] (settings are top-level keys, not tables)",
    ]


def test_wrong_types_and_ranges_name_the_file_line_and_key(tmp_path: Path) -> None:
    path = write(tmp_path, """smtp_port = "25"
argon2_time_cost = true
session_idle_seconds = 30
janitor_interval_seconds = 1.5
smtp_starttls = "on"
trusted_proxies = "10.0.0.0/8"
metrics_addresses = ["127.0.0.1", "localhost", 7]
log_level = "loud"
public_url = "id.example.com"
http_head_timeout_seconds = 0.1
smtp_host = 25
""")
    assert problems_of(path) == [
        f'{path}:1: smtp_port must be a whole number, not the string "25" (write it without quotes)',
        f"{path}:2: argon2_time_cost must be a whole number, not true",
        f"{path}:3: session_idle_seconds must be between 60 and 2592000, not 30",
        f"{path}:4: janitor_interval_seconds must be a whole number, not 1.5",
        f'{path}:5: smtp_starttls must be true or false, not the string "on" (write it without quotes)',
        f'{path}:6: trusted_proxies must be a list of addresses or CIDR ranges such as ["10.0.0.0/8"], '
        'not the string "10.0.0.0/8"',
        f'{path}:7: metrics_addresses must be a list of addresses or CIDR ranges such as ["10.0.0.0/8"], not a list',
        f"{path}:8: log_level must be one of critical, error, warning, info, debug, trace, not 'loud'",
        f"{path}:9: public_url must start with http:// or https://",
        f"{path}:10: http_head_timeout_seconds must be between 0.5 and 3600 seconds, not 0.1",
        f"{path}:11: smtp_host must be a string, not 25",
    ]
    bad_addresses = write(tmp_path, 'trusted_proxies = ["10.0.0.0/8", "10.0.0.300", "proxy.local"]\n', name="b.toml")
    assert problems_of(bad_addresses) == [f"{bad_addresses}:1: trusted_proxies must be IP addresses or CIDR ranges: "
                                          "'10.0.0.300', 'proxy.local' are not"]


def test_every_problem_of_file_and_environment_at_once(tmp_path: Path) -> None:
    path = write(tmp_path, 'smtp_port = 0\nsmtp_hots = "x"\nlog_format = "json"\n')
    env = {"VESTIBULE_SMTP_PORT": "25", "VESTIBULE_ARGON2_TIME_COST": "lots", "VESTIBULE_SIGNUP": "perhaps"}
    found = read_configuration(env, path)
    # the file's smtp_port is wrong even though the environment overrides it: it would bite once the variable goes
    assert found.problems == (
        f"{path}:1: smtp_port must be between 1 and 65535, not 0",
        f"{path}:2: unknown setting smtp_hots (did you mean smtp_host?)",
        "VESTIBULE_SIGNUP must be on or off, not 'perhaps'",
        "VESTIBULE_ARGON2_TIME_COST must be a whole number, not 'lots'",
    )
    with pytest.raises(SettingsError) as raised:
        load_settings(env, path)
    assert str(raised.value) == (f"{path}:1: smtp_port must be between 1 and 65535, not 0 "
                                 "(and 3 more problems: `vestibule config check` lists them)")
    assert raised.value.problems == found.problems


def test_unreadable_or_broken_files(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    assert problems_of(missing) == [f"{missing}: cannot read the configuration file: No such file or directory"]
    broken = write(tmp_path, 'smtp_host = "mail"\nsmtp_port = = 25\n')
    [problem] = problems_of(broken)
    assert problem.startswith(f"{broken}: not valid TOML: ") and "line 2" in problem
    twice = write(tmp_path, "smtp_port = 25\nsmtp_port = 26\n", name="twice.toml")
    [problem] = problems_of(twice)
    assert problem.startswith(f"{twice}: not valid TOML: ") and "line 2" in problem
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"smtp_host = \"\xff\"\n")
    assert problems_of(binary) == [f"{binary}: not UTF-8 text"]


def test_a_secret_in_a_file_others_may_read_is_a_warning(tmp_path: Path) -> None:
    text = 'smtp_password = "hunter2hunter2"\nmetrics_token = "t0ken-of-sixteen-chars"\nsmtp_port = 25\n'
    found = read_configuration({}, write(tmp_path, text, mode=0o640))
    assert found.settings is not None and found.settings.smtp_password == "hunter2hunter2"
    path = tmp_path / "vestibule.toml"
    assert found.warnings == (f"{path} holds smtp_password, metrics_token and others may read it (mode 0640): "
                              f"chmod 600 {path}",)
    assert "hunter2" not in " ".join(found.warnings)
    assert read_configuration({}, write(tmp_path, text, mode=0o600)).warnings == ()
    assert read_configuration({}, write(tmp_path, "smtp_port = 25\n", mode=0o644)).warnings == ()
    with_password = 'database_url = "postgresql+asyncpg://vestibule:s3cret@db/vestibule"\n'
    assert "holds database_url" in read_configuration({}, write(tmp_path, with_password, mode=0o604)).warnings[0]
    no_password = 'database_url = "postgresql+asyncpg://vestibule@db/vestibule"\n'
    assert read_configuration({}, write(tmp_path, no_password, mode=0o644)).warnings == ()


def test_a_bad_master_key_is_named_without_its_value(tmp_path: Path) -> None:
    path = write(tmp_path, 'master_key = "c0ffee"\n')
    assert problems_of(path) == [f"{path}:1: master_key is not a master key or keyring: the master key must be 64 "
                                 "hexadecimal characters"]
    found = read_configuration({"VESTIBULE_MASTER_KEY": "ab" * 32 + " " + "cd" * 32})
    assert found.problems == ("VESTIBULE_MASTER_KEY is not a master key or keyring: a keyring of several master "
                              "keys needs its signing:<hex> entry (vestibule master-key new prints it)",)
    assert "abab" not in found.problems[0]
    assert problems_of(write(tmp_path, "master_key = 7\n")) == [f"{path}:1: master_key must be a string of 64 "
                                                                 "hexadecimal characters"]
    ring = "ab" * 32 + "," + "cd" * 32 + ",signing:" + "ef" * 32
    assert load_settings({"VESTIBULE_MASTER_KEY": ring}).master_key == ring
    assert load_settings({"VESTIBULE_MASTER_KEY": ""}, write(tmp_path, f'master_key = "{"ab" * 32}"\n')).master_key \
        == ""  # the environment's empty value: the data directory's master.key


def test_masked_hides_secrets_from_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, 'master_key = "' + "ab" * 32 + '"\nredis_url = "redis://:pw@cache:6379/0"\n'
                 'metrics_token = "t0ken-of-sixteen-chars"\n')
    shown = load_settings({}, path).masked()
    assert shown["master_key"] == "********" and shown["metrics_token"] == "********"
    assert shown["redis_url"] == "redis://********@cache:6379/0"
    assert shown["config_file"] == str(path) and "configured" not in shown and "from_file" not in shown
    assert "ab" * 32 not in str(shown) and "pw@" not in str(shown)


def test_misspelt_environment_variables_are_named() -> None:
    env = {"VESTIBULE_SMTP_HOTS": "mail", "VESTIBULE_SMTP_HOST": "mail", "VESTIBULE_CONFIG": "x",
           "VESTIBULE_TEST_DATABASE_URL": "x", "VESTIBULE_SERVE_LOOPBACK": "1", "VESTIBULE_FROBNICATE": "1",
           "HOME": os.environ.get("HOME", "/")}
    assert unknown_environment(env) == (
        "VESTIBULE_FROBNICATE is not a Vestibule setting and is ignored",
        "VESTIBULE_SMTP_HOTS is not a Vestibule setting and is ignored (did you mean VESTIBULE_SMTP_HOST?)",
    )
