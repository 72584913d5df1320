"""The page marker codec: opaque, bound to its list, canonical; pages cut from key-ordered rows."""

from __future__ import annotations

import pytest

from vestibule.core.pagination import MarkerCodec, PageRequest
from vestibule.errors import InvalidMarker

KEY = b"k" * 32


def test_a_marker_carries_its_key_and_only_its_list_reads_it() -> None:
    codec = MarkerCodec(KEY, "ListUsers", "123456789012", "/")
    marker = codec.encode(("alice", "AIDA1"))
    assert "alice" not in marker and len(marker) <= 320
    assert codec.decode(marker) == ("alice", "AIDA1")
    for other in (MarkerCodec(KEY, "ListGroups", "123456789012", "/"),
                  MarkerCodec(KEY, "ListUsers", "210987654321", "/"),
                  MarkerCodec(KEY, "ListUsers", "123456789012", "/eng/"),
                  MarkerCodec(b"x" * 32, "ListUsers", "123456789012", "/")):
        with pytest.raises(InvalidMarker):
            other.decode(marker)


@pytest.mark.parametrize("bad", ["", "x", ".", "a.b", "bogus.", "é.é", "0"])
def test_anything_else_is_refused(bad: str) -> None:
    with pytest.raises(InvalidMarker) as err:
        MarkerCodec(KEY, "ListUsers").decode(bad)
    assert err.value.marker == bad


def test_a_non_canonical_spelling_of_a_good_marker_is_refused() -> None:
    codec = MarkerCodec(KEY, "ListUsers")
    marker = codec.encode(("a",))
    body, tag = marker.split(".")
    assert tag[-1] in "AQgw"  # 128 bits: the last character carries 2 bits, the rest must be zero
    spelled = body + "." + tag[:-1] + chr(ord(tag[-1]) + 1)
    with pytest.raises(InvalidMarker):
        codec.decode(spelled)
    with pytest.raises(InvalidMarker):
        codec.decode(marker + "=")


def test_the_longest_keys_fit_the_model_s_320_characters() -> None:
    codec = MarkerCodec(KEY, "ListPolicies", "123456789012", "All", "True", "/" * 512, "PermissionsBoundary")
    assert len(codec.encode(("local", "p" * 128, "ANPA" + "A" * 17))) <= 320


def test_pages_cut_from_rows_in_key_order() -> None:
    codec = MarkerCodec(KEY, "L")
    rows = ["e", "a", "d", "b", "c"]
    first = codec.page_in_memory(rows, PageRequest(limit=2), lambda r: (r,))
    assert first.items == ["a", "b"] and first.next_marker is not None
    rest = codec.page_in_memory([*rows, "aa"], PageRequest(first.next_marker, 2), lambda r: (r,))
    assert rest.items == ["c", "d"]
    last = codec.page_in_memory(rows, PageRequest(rest.next_marker, 2), lambda r: (r,))
    assert last.items == ["e"] and last.next_marker is None
    assert codec.page(["a", "b"], PageRequest(limit=2), lambda r: (r,)).next_marker is None
    assert codec.page([], PageRequest(), lambda r: (r,)).items == []
    for limit in (0, 1001):
        with pytest.raises(ValueError):
            PageRequest(limit=limit)
