"""The client's DPoP proofs as the server checks them (core/dpop.py): the proof of `vestibule login` passes, and
the checks that matter refuse it when it is for another URL or method, too old, or signed by another key; the
thumbprint the server binds is the one the client computes, and the one of the key botocore loads from the cache."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from botocore.credentials import LoginCredentialFetcher, _build_dpop_header

from vestibule.client.dpop_key import DpopKey
from vestibule.core import dpop

URL = "https://signin.example.com/v1/token"


def test_the_servers_checker_accepts_the_clients_proof() -> None:
    key = DpopKey.generate()
    now = time.time()
    checked = dpop.verify(key.proof(URL), method="POST", urls=[URL, "http://10.0.0.1:8080/v1/token"], now=now)
    assert checked.jkt == key.thumbprint() == dpop.thumbprint(key.jwk())
    assert abs(checked.iat - now) <= 1 and len(checked.jti) == 36


@pytest.mark.parametrize(("proof_of", "words"), [
    (lambda key: key.proof("https://signin.example.com/v1/other"), "URL"),
    (lambda key: key.proof(URL, method="GET"), "method"),
    (lambda key: key.proof(URL, now=time.time() - dpop.MAX_AGE - 5), "too old"),
    (lambda key: key.proof(URL, now=time.time() + dpop.MAX_SKEW + 5), "future"),
])
def test_the_servers_checker_refuses_a_proof_not_for_this_request(proof_of: Callable[[DpopKey], str],
                                                                   words: str) -> None:
    key = DpopKey.generate()
    with pytest.raises(dpop.InvalidProof, match=words):
        dpop.verify(proof_of(key), method="POST", urls=[URL], now=time.time())


def test_another_keys_signature_is_refused() -> None:
    head, body, _ = DpopKey.generate().proof(URL).split(".")
    other = DpopKey.generate().proof(URL).split(".")[2]
    with pytest.raises(dpop.InvalidProof, match="signature"):
        dpop.verify(f"{head}.{body}.{other}", method="POST", urls=[URL], now=time.time())


def test_botocores_refresh_proofs_bind_to_the_same_thumbprint() -> None:
    """After login, botocore signs the refreshes with the key it loads from the cache file: the server must see
    the thumbprint it bound at login."""
    key = DpopKey.generate()
    crt_key = LoginCredentialFetcher._load_private_key({"dpopKey": key.pem()})
    checked = dpop.verify(_build_dpop_header(crt_key, URL), method="POST", urls=[URL], now=time.time())
    assert checked.jkt == key.thumbprint()
