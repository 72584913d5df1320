"""The config file writer keeps everything it does not own, and botocore reads what it writes."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import botocore.session
import pytest

from vestibule.client.aws_config import ConfigFile, config_path, profile_header, services_header, session_header
from vestibule.client.errors import ConfigProblem

ORIGINAL = """# my settings, by hand
[default]
region = eu-west-1
output = json

[profile work]   ; the old one
role_arn = arn:aws:iam::111122223333:role/Admin
source_profile = default
s3 =
  max_concurrent_requests = 20
  addressing_style = path

[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
sso_region = us-west-2
"""


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "elsewhere" / "aws-config"
    monkeypatch.setenv("AWS_CONFIG_FILE", str(path))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    return path


def test_aws_config_file_is_honoured(config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert config_path() == config
    monkeypatch.delenv("AWS_CONFIG_FILE")
    assert config_path() == tmp_path / "home" / ".aws" / "config"


def test_adding_sections_keeps_every_other_line(config: Path) -> None:
    config.parent.mkdir(parents=True)
    config.write_text(ORIGINAL)
    os.chmod(config, 0o640)
    file = ConfigFile.load()
    file.set_section(session_header("team"), {"sso_start_url": "http://127.0.0.1:8080/portal/d-1234567890/start",
                                              "sso_region": "us-east-1",
                                              "sso_registration_scopes": "sso:account:access"})
    file.set_section(profile_header("dev"), {"sso_session": "team", "sso_account_id": "123456789012",
                                             "sso_role_name": "Developers", "region": "us-east-1",
                                             "services": "team"})
    file.set_section(services_header("team"), {"sts": {"endpoint_url": "http://127.0.0.1:8080"}})
    file.save()
    text = config.read_text()
    assert text.startswith(ORIGINAL), "the user's sections, comments and blank lines are untouched"
    assert stat.S_IMODE(config.stat().st_mode) == 0o640, "the file keeps its mode"
    assert [p.name for p in config.parent.iterdir()] == ["aws-config"], "no temporary file is left"

    session = botocore.session.Session(profile="dev")
    scoped = session.get_scoped_config()
    assert scoped["sso_session"] == "team" and scoped["sso_account_id"] == "123456789012"
    assert scoped["sso_role_name"] == "Developers" and scoped["region"] == "us-east-1"
    sso_sessions = session.full_config["sso_sessions"]
    assert sso_sessions["team"]["sso_start_url"] == "http://127.0.0.1:8080/portal/d-1234567890/start"
    assert sso_sessions["corp"]["sso_region"] == "us-west-2"
    assert session.full_config["profiles"]["work"]["s3"] == {"max_concurrent_requests": "20",
                                                            "addressing_style": "path"}
    sts = session.create_client("sts", aws_access_key_id="a", aws_secret_access_key="b")
    assert sts.meta.endpoint_url == "http://127.0.0.1:8080", "botocore reads the [services] section"

    read = ConfigFile.load()
    assert read.sso_profile("dev").sso_session == "team"
    assert read.sso_session("team").registration_scopes == ("sso:account:access",)
    assert read.session_names() == ["corp", "team"]


def test_changing_a_section_replaces_keys_in_place(config: Path) -> None:
    config.parent.mkdir(parents=True)
    config.write_text(ORIGINAL)
    file = ConfigFile.load()
    file.set_section("profile work", {"s3": "gone", "region": "ap-south-1", "ROLE_ARN": "arn:aws:iam::1:role/X"})
    file.set_section("default", {"output": "text"})
    file.save()
    text = config.read_text()
    assert "max_concurrent_requests" not in text, "a replaced key loses its nested block"
    assert "[profile work]   ; the old one\nROLE_ARN = arn:aws:iam::1:role/X\nsource_profile = default\n" \
           "s3 = gone\nregion = ap-south-1\n\n[sso-session corp]" in text
    assert "[default]\nregion = eu-west-1\noutput = text\n\n[profile work]" in text
    assert text.startswith("# my settings, by hand\n")


def test_new_file_is_private_and_default_profile_has_no_prefix(config: Path) -> None:
    file = ConfigFile.load()
    file.set_section(profile_header("default"), {"sso_session": "s", "sso_account_id": "1",
                                                 "sso_role_name": "R"})
    file.save()
    assert config.read_text() == "[default]\nsso_session = s\nsso_account_id = 1\nsso_role_name = R\n"
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert ConfigFile.load().sso_profile("default").role_name == "R"


def test_missing_or_incomplete_sections_say_what_to_run(config: Path) -> None:
    config.parent.mkdir(parents=True)
    config.write_text(ORIGINAL + "[profile legacy]\nsso_start_url = https://x/start\n[sso-session half]\n"
                      "sso_region = us-east-1\n")
    file = ConfigFile.load()
    with pytest.raises(ConfigProblem, match=r"no profile 'nope'.*vestibule sso configure --profile nope") as e:
        file.sso_profile("nope")
    assert e.value.exit_code == 3
    with pytest.raises(ConfigProblem, match=r"'work' .* has no sso_session"):
        file.sso_profile("work")
    with pytest.raises(ConfigProblem, match="names sso_start_url itself"):
        file.sso_profile("legacy")
    with pytest.raises(ConfigProblem, match=r"\[sso-session half\] .* has no sso_start_url"):
        file.sso_session("half")
    with pytest.raises(ConfigProblem, match=r"no \[sso-session other\]"):
        file.sso_session("other")


@pytest.mark.parametrize(("header", "values", "said"), [
    ("profile p", {"region": "us-east-1\n[default]\ncredential_process = /bin/evil"}, "U+000A"),
    ("profile p", {"region": "a\rb"}, "U+000D"),
    ("profile p", {"region": "a\x00b"}, "U+0000"),
    ("profile p", {"region": "a\u2028b"}, "U+2028"),
    ("profile p", {"services": {"sts": "x\n[default]"}}, "U+000A"),
    ("profile p", {"credential_process = /bin/evil\nregion": "x"}, "letters, digits"),
    ("profile p", {"services": {"sts\n[default]": "x"}}, "letters, digits"),
    ("profile p]\n[default", {"region": "x"}, "U+000A"),
    ("profile p] [default", {"region": "x"}, "contain [ or ]"),
    ("profile [p", {"region": "x"}, "contain [ or ]"),
    ("", {"region": "x"}, "cannot be empty"),
])
def test_writer_refuses_what_would_leave_its_line(config: Path, header: str, values: dict[str, str], said: str) -> None:
    config.parent.mkdir(parents=True)
    config.write_text(ORIGINAL)
    file = ConfigFile.load()
    with pytest.raises(ConfigProblem, match=re.escape(said)) as refused:
        file.set_section(header, values)
    assert refused.value.exit_code == 3 and "nothing was written" in refused.value.message
    file.save()
    assert config.read_text() == ORIGINAL, "the lines are unchanged"


def test_a_symlinked_config_is_written_where_it_points(config: Path, tmp_path: Path) -> None:
    dotfiles = tmp_path / "dotfiles" / "aws"
    dotfiles.parent.mkdir()
    dotfiles.write_text(ORIGINAL)
    os.chmod(dotfiles, 0o644)
    config.parent.mkdir(parents=True)
    config.symlink_to(Path("..") / "dotfiles" / "aws")
    file = ConfigFile.load()
    file.set_section(profile_header("dev"), {"sso_session": "corp"})
    file.save()
    assert config.is_symlink(), "still a link"
    assert dotfiles.read_text() == ORIGINAL + "\n[profile dev]\nsso_session = corp\n"
    assert stat.S_IMODE(dotfiles.stat().st_mode) == 0o644
    assert sorted(p.name for p in dotfiles.parent.iterdir()) == ["aws"], "no temporary file is left"


def test_a_leading_bom_is_read_past_and_not_written(config: Path) -> None:
    config.parent.mkdir(parents=True)
    config.write_bytes(b"\xef\xbb\xbf" + ORIGINAL.encode())
    file = ConfigFile.load()
    assert "default" in file.sections(), "the first section is seen"
    file.set_section("default", {"output": "text"})
    file.save()
    data = config.read_bytes()
    assert not data.startswith(b"\xef\xbb\xbf") and data.count(b"[default]") == 1
    assert botocore.session.Session().full_config["profiles"]["default"]["output"] == "text"
