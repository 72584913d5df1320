"""The pure rules of My details and Security: names, nicknames, the hint of an address, the words that delete
every session."""

from __future__ import annotations

import pytest

from vestibule.core.principals import PrincipalRef
from vestibule.services.profiles import security
from vestibule.services.profiles.details import (
    NicknameInvalid,
    ProfileNameInvalid,
    checked_name,
    checked_nickname,
    masked,
)
from vestibule.store.models import MfaDevice

PROFILE = "p" + "a" * 20


def test_names_are_trimmed_and_bounded() -> None:
    assert checked_name("  Mei   Lin ") == "Mei Lin"
    assert checked_name("林" * 100) == "林" * 100
    for bad in ("", "   ", "x" * 101, "tab\x00bed"):
        with pytest.raises(ProfileNameInvalid):
            checked_name(bad)


def test_a_nickname_may_be_empty() -> None:
    assert checked_nickname("  ") is None
    assert checked_nickname(" Mei ") == "Mei"
    with pytest.raises(NicknameInvalid):
        checked_nickname("n" * 101)


def test_the_old_address_sees_only_a_hint_of_the_new_one() -> None:
    assert masked("new-maker@example.com") == "n******@example.com"
    assert masked("a@example.com") == "a*@example.com"


@pytest.mark.parametrize("words", ["delete all", "DELETE ALL", "  delete   all ", "刪除全部", " 刪除全部 "])
def test_the_words_of_either_language(words: str) -> None:
    assert security.words_match(words)


@pytest.mark.parametrize("words", ["", "delete", "delete everything", "deleteall", "刪除"])
def test_other_words_are_not_the_words(words: str) -> None:
    assert not security.words_match(words)


def test_the_page_shows_its_language_words() -> None:
    assert security.delete_all_words("en") == "delete all"
    assert security.delete_all_words("zh-TW") == "刪除全部"
    assert security.delete_all_words("fr") == "delete all"


def test_device_numbers_count_up_and_are_not_reused() -> None:
    def device(n: int) -> MfaDevice:
        return MfaDevice(serial=f"{PrincipalRef.profile(PROFILE).key}:mfa/{n}", name="d", secret_sealed="",
                         created_at=0.0)

    assert security._next_serial(PROFILE, []) == f"profile:{PROFILE}:mfa/1"
    assert security._next_serial(PROFILE, [device(1), device(3)]) == f"profile:{PROFILE}:mfa/4"
