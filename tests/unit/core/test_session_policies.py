"""The stored form of a session's policies: one document, or a chain of scope-down layers."""

from __future__ import annotations

from vestibule.core import session_policies as chain

DOC = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}'


def test_one_document_is_stored_as_itself() -> None:
    assert chain.split(None) == (None, ())
    assert chain.split(DOC) == (DOC, ())
    assert chain.scope_down_layers(DOC) == 0


def test_scope_down_layers_are_kept_in_order() -> None:
    first = chain.with_scope_down(None, '{"a": 1}')
    assert chain.split(first) == (None, ('{"a": 1}',))
    second = chain.with_scope_down(chain.with_scope_down(DOC, '{"a": 1}'), '{"b": 2}')
    assert chain.split(second) == (DOC, ('{"a": 1}', '{"b": 2}'))
    assert chain.scope_down_layers(second) == 2
