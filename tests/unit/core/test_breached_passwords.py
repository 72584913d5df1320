"""The offline breached-password check: the bundled list, its normalised forms, its builder, and the operator's
corpus as range files or one sorted file (bisection at the edges, prefix boundaries, malformed files)."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
import zipfile
from pathlib import Path

import pytest

from vestibule.core import breached_passwords as bp
from vestibule.core.breached import build
from vestibule.core.passwords import PROFILE_POLICY, ROOT_POLICY, PasswordPolicy, PolicyError, violations

# --- the bundled list -------------------------------------------------------------------------------------------

MUST_BE_CAUGHT = ["password", "Passw0rd!", "P@ssw0rd", "Password1!", "123456", "qwerty123",
                  # the usual dressing of a common password: case, symbols around it, a counter or a year, leet
                  "PASSWORD", "Password", "password!", "!password!", "Password123", "Password123!", "P@$$w0rd",
                  "p4ssw0rd", "Qwerty123!", "Summer2024!", "Welcome1!", "Admin@123", "iloveyou", "ILoveYou2!",
                  "Dragon!!", "Football#1", "letmein", "Monkey123!", "1qaz2wsx", "Trustno1", "12345678!",
                  # Unicode and whitespace dressing: full-width letters, any whitespace around, inside, zero-width
                  "ｐａｓｓｗｏｒｄ", "password\t", "password\xa0", "\u3000Password1!\u2003", "Pass word1!",
                  "pass\u200bword", "PASSWORD\n", "ＰＡＳＳＷＯＲＤ１２３",
                  # the service's own name is as common as any entry
                  "Vestibule1!", "vestibule", "VESTIBULE2024", "V3stibule!"]
NOT_CAUGHT = ["correct horse battery staple", "Jennifer8472!", "dragon-fruit-salad-42", "Xk7#pQ2mLw",
              "Vestibule-Test-9!", "Tr0ub4dor&3", "password manager keeps this one long", "monkey wrench 1975 x",
              "user password 1", "root password 1"]


@pytest.mark.parametrize("password", MUST_BE_CAUGHT)
def test_the_bundled_list_catches_common_passwords_and_their_dressing(password: str) -> None:
    assert bp.bundled().is_common(password)


@pytest.mark.parametrize("password", NOT_CAUGHT)
def test_a_password_that_only_contains_a_common_word_passes(password: str) -> None:
    assert not bp.bundled().is_common(password)


def test_the_bundled_file_is_compact_and_holds_tens_of_thousands() -> None:
    size = bp.BUNDLED_PATH.stat().st_size
    assert size < 1_000_000 and size % bp.RECORD_BYTES == 0
    assert 10_000 <= bp.bundled().size <= 100_000
    data = bp.BUNDLED_PATH.read_bytes()
    records = [data[i:i + bp.RECORD_BYTES] for i in range(0, len(data), bp.RECORD_BYTES)]
    assert records == sorted(set(records)), "sorted, without duplicates (the bisection needs it)"
    assert b"password" not in data and b"123456" not in data, "no password text, only digests"


@pytest.mark.parametrize(("password", "expected"), [
    ("Passw0rd!", ["passw0rd!", "passwordi", "passw0rd", "password"]),
    ("P@ssw0rd", ["p@ssw0rd", "password"]),
    ("Summer2024!", ["summer2024!", "summer2o2ai", "summer2024", "summer2o2a", "summer"]),
    ("123456", ["123456"]),  # substitutions are undone only where there is a letter
    ("Jennifer8472", ["jennifer8472", "jennifer8at2"]),  # 8472 is no counter, no year, no repeated digit
    ("Abc!", ["abc!", "abci"]),  # shorter forms are not asked about
    ("!!!!", ["!!!!"]),
    ("Pass word1!", ["pass word1!", "pass wordii", "pass wordli", "pass word1", "pass wordi", "pass wordl",
                     "pass word", "password1", "passwordi", "passwordl", "password"]),  # inner whitespace removed
    ("ＡＢＣ１２\t", ["abc12\t", "abci2\t", "abcl2\t", "abc12", "abci2", "abcl2"]),  # NFKC, any whitespace
])
def test_forms(password: str, expected: list[str]) -> None:
    assert bp.forms(password) == expected


def test_encode_and_bisect_every_position() -> None:
    words = [f"word{n:03d}" for n in range(200)] + ["abc", "ABCD"]  # "abc" is too short to keep
    bundled = bp.BundledList(bp.encode(words))
    assert bundled.size == 201
    assert all(word in bundled for word in words[:200])
    assert "abcd" in bundled and "ABCD" not in bundled, "entries are lower-cased; forms() lower-cases the password"
    assert bundled.is_common("ABCD") and "abc" not in bundled and "word200" not in bundled
    assert "x" not in bp.BundledList(b"")
    with pytest.raises(bp.BreachedListError, match="multiple"):
        bp.BundledList(b"12345")


def test_the_builder_reads_both_packages_and_writes_the_list(tmp_path: Path) -> None:
    wheel = tmp_path / "django-9.9-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as z:
        z.writestr("django/contrib/auth/common-passwords.txt.gz", gzip.compress(b"alphabet\nsunshine\n"))
    npm = tmp_path / "zxcvbn-ts-language-common-9.9.tgz"
    with tarfile.open(npm, "w:gz") as tar:
        data = json.dumps(["Sunshine", "letmein", "qwertyuiop"]).encode()
        info = tarfile.TarInfo("package/src/passwords.json")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    out = tmp_path / "common.bin"
    assert build.main([str(wheel), str(npm), "--output", str(out)]) == 0
    made = bp.BundledList.load(out)
    assert made.size == 4 and all(w in made for w in ("alphabet", "sunshine", "letmein", "qwertyuiop"))
    assert made.is_common("Sunshine1!") and not made.is_common("password")
    with pytest.raises(SystemExit):
        build.main([str(tmp_path / "other.whl"), "--output", str(out)])


# --- the rules -------------------------------------------------------------------------------------------------


def test_profile_policy_has_the_64_character_maximum_and_refuses_breached() -> None:
    assert PROFILE_POLICY.maximum_length == 64 and PROFILE_POLICY.refuse_breached
    assert ROOT_POLICY.refuse_breached and ROOT_POLICY.maximum_length == 128
    fine = "Aa1!" + "x" * 60
    assert violations(PROFILE_POLICY, fine) == []
    assert violations(PROFILE_POLICY, fine + "x") == ["password.too_long"]
    assert violations(PasswordPolicy(), fine + "x") == []
    with pytest.raises(PolicyError, match="Maximum"):
        PasswordPolicy(minimum_length=20, maximum_length=10)
    with pytest.raises(PolicyError, match="Maximum"):
        PasswordPolicy(maximum_length=129)


def test_the_iam_api_shape_has_no_vestibule_fields() -> None:
    shape = PasswordPolicy(refuse_breached=True, maximum_length=64).api_shape()
    assert set(shape) == {"MinimumPasswordLength", "RequireSymbols", "RequireNumbers", "RequireUppercaseCharacters",
                          "RequireLowercaseCharacters", "AllowUsersToChangePassword", "ExpirePasswords",
                          "HardExpiry"}


# --- the operator's corpus -------------------------------------------------------------------------------------


def sha1(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest().upper()


def _neighbour(hex40: str, step: int) -> str:
    return f"{(int(hex40, 16) + step) % (1 << 160):040X}"


def _write_ranges(directory: Path, hashes: dict[str, int], newline: str = "\r\n") -> None:
    """Range files as the range API answers them: per prefix, `SUFFIX:COUNT` lines sorted, CRLF."""
    by_prefix: dict[str, list[str]] = {}
    for full, count in sorted(hashes.items()):
        by_prefix.setdefault(full[:5], []).append(f"{full[5:]}:{count}")
    for prefix, lines in by_prefix.items():
        (directory / f"{prefix}.txt").write_text(newline.join(lines), encoding="ascii")


BREACHED = ["Correct horse 1", "Correct horse 2", "Correct horse 3", "hunter2hunter2", "Tr0ub4dor&3"]


def _corpus_hashes() -> dict[str, int]:
    hashes = {sha1(p): 10 + n for n, p in enumerate(BREACHED)}
    target = sha1("Correct horse 1")
    # neighbours right before and after it, in its prefix file: it is neither first nor last there
    hashes[_neighbour(target, -1)] = 3
    hashes[_neighbour(target, 1)] = 4
    hashes[sha1("padding entry")] = 0  # the range API's padding: count 0, not breached
    # the two sides of a prefix boundary: ...FFFFFFF closes prefix 12345, ...0000000 opens 12346
    hashes["12345" + "F" * 35] = 7
    hashes["12346" + "0" * 35] = 8
    return hashes


def test_range_directory(tmp_path: Path) -> None:
    _write_ranges(tmp_path, _corpus_hashes())
    corpus = bp.open_corpus(tmp_path)
    assert isinstance(corpus, bp.RangeDirectory)
    for n, password in enumerate(BREACHED):
        assert corpus.count(sha1(password)) == 10 + n
    target = sha1("Correct horse 1")
    assert corpus.count(_neighbour(target, -1)) == 3 and corpus.count(_neighbour(target, 1)) == 4
    assert corpus.count(_neighbour(target, 2)) == 0
    assert corpus.count("12345" + "F" * 35) == 7 and corpus.count("12346" + "0" * 35) == 8
    assert corpus.count("12345" + "F" * 34 + "E") == 0 and corpus.count("12346" + "0" * 34 + "1") == 0
    assert corpus.count("ABCDE" + "0" * 35) == 0, "a prefix without its file"
    checker = bp.BreachedPasswords(bp.bundled(), corpus)
    assert checker.is_breached("hunter2hunter2") and checker.in_corpus("Tr0ub4dor&3")
    assert not checker.is_breached("padding entry") and not checker.is_breached("Correct horse 4")
    assert not checker.in_corpus("Passw0rd!") and checker.is_breached("Passw0rd!"), "the bundled list too"


def test_range_files_in_lower_case_with_lf_lines_and_empty_ones(tmp_path: Path) -> None:
    target = sha1("Correct horse 2")
    (tmp_path / f"{target[:5].lower()}.txt").write_text(f"{target[5:].lower()}:5\n", encoding="ascii")
    (tmp_path / "00000.txt").write_bytes(b"")
    corpus = bp.open_corpus(tmp_path)
    assert corpus.count(target) == 5 and corpus.count("0" * 40) == 0


def test_one_sorted_file(tmp_path: Path) -> None:
    hashes = _corpus_hashes()
    path = tmp_path / "pwned.txt"
    path.write_text("".join(f"{h}:{c}\n" for h, c in sorted(hashes.items())), encoding="ascii")
    corpus = bp.open_corpus(path)
    assert isinstance(corpus, bp.SortedFile)
    for full, count in hashes.items():
        assert corpus.count(full) == count
    first, last = min(hashes), max(hashes)
    assert corpus.count(first) == hashes[first] and corpus.count(last) == hashes[last]
    assert corpus.count("0" * 40) == 0 and corpus.count("F" * 40) == 0, "before the first and after the last"
    assert corpus.count("12345" + "F" * 34 + "E") == 0 and corpus.count("12346" + "0" * 34 + "1") == 0
    corpus.close()


def test_a_single_line_file_without_newline(tmp_path: Path) -> None:
    path = tmp_path / "one.txt"
    path.write_text(f"{sha1('only one')}:1", encoding="ascii")
    corpus = bp.open_corpus(path)
    assert corpus.count(sha1("only one")) == 1 and corpus.count(sha1("another")) == 0


@pytest.mark.parametrize(("content", "message"), [
    (b"", "is empty"),
    (b"not a hash line\n", "SHA1:COUNT"),
    (b"0123456789ABCDEF0123456789ABCDEF0123456:3\n", "SHA1:COUNT"),  # 39 digits: a range file's line is 35
    (f"{'F' * 40}:1\n{'0' * 40}:1\n".encode(), "not sorted"),
    (f"{'0' * 40}:1\n{'F' * 40}:x\n".encode(), "SHA1:COUNT"),
])
def test_a_malformed_file_is_refused_at_start(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(bp.BreachedListError, match=message):
        bp.open_corpus(path)


def test_a_missing_file_or_a_directory_without_range_files_is_refused(tmp_path: Path) -> None:
    with pytest.raises(bp.BreachedListError, match="does not exist"):
        bp.open_corpus(tmp_path / "nowhere.txt")
    (tmp_path / "README").write_text("x")
    with pytest.raises(bp.BreachedListError, match="no range file"):
        bp.open_corpus(tmp_path)
    (tmp_path / "ABCDE.txt").write_text("not a suffix line\n")
    with pytest.raises(bp.BreachedListError, match="SUFFIX:COUNT"):
        bp.open_corpus(tmp_path)


def test_a_malformed_line_met_by_a_look_up_is_an_error(tmp_path: Path) -> None:
    good = f"{'0' * 40}:1\n"
    path = tmp_path / "broken.txt"
    path.write_text(good + "garbage in the middle of the file\n" + f"{'F' * 40}:1\n", encoding="ascii")
    corpus = bp.open_corpus(path)  # the first and last lines are fine
    with pytest.raises(bp.BreachedListError, match="byte 43"):
        corpus.count("8" * 40)
    (tmp_path / "ranges").mkdir()
    (tmp_path / "ranges" / "88888.txt").write_text(f"{'0' * 35}:1\nbroken\n{'F' * 35}:1\n", encoding="ascii")
    with pytest.raises(bp.BreachedListError, match=r"88888\.txt"):
        bp.open_corpus(tmp_path / "ranges").count("8" * 40)


# --- the setting -----------------------------------------------------------------------------------------------


def test_the_setting_is_checked_when_read_and_relative_to_the_file(tmp_path: Path) -> None:
    from vestibule.settings import read_configuration

    ranges = tmp_path / "ranges"
    ranges.mkdir()
    (ranges / "ABCDE.txt").write_text(f"{'0' * 35}:1\n")
    config = tmp_path / "vestibule.toml"
    config.write_text('breached_passwords_file = "ranges"\n')
    found = read_configuration(env={}, config_file=config)
    assert found.settings is not None and found.settings.breached_passwords_file == ranges
    assert found.settings.masked()["breached_passwords_file"] == str(ranges)
    config.write_text('breached_passwords_file = "elsewhere"\n')
    assert read_configuration(env={}, config_file=config).problems == (
        f"{config}:1: breached_passwords_file is not usable: {tmp_path / 'elsewhere'} does not exist",)
    config.write_text("breached_passwords_file = 3\n")
    assert "must be a path" in read_configuration(env={}, config_file=config).problems[0]
    env = {"VESTIBULE_BREACHED_PASSWORDS_FILE": str(ranges / "ABCDE.txt")}  # a range file is not a sorted file
    assert "SHA1:COUNT" in read_configuration(env=env).problems[0]
    default = read_configuration(env={})
    assert default.settings is not None and default.settings.breached_passwords_file is None
