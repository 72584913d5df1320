"""The PKCE loopback listener takes one callback with its own state and refuses everything else."""

from __future__ import annotations

import httpx

from vestibule.client.loopback import Callback, LoopbackListener


def test_only_our_state_ends_the_wait() -> None:
    with LoopbackListener("the-state") as listener:
        assert listener.redirect_uri == f"http://127.0.0.1:{listener.port}/oauth/callback" and listener.port > 0
        base = listener.redirect_uri
        other = httpx.get(base, params={"code": "stolen", "state": "another"})
        assert other.status_code == 400 and "does not belong" in other.text
        assert httpx.get(base, params={"code": "x"}).status_code == 400, "no state at all"
        assert httpx.get(f"http://127.0.0.1:{listener.port}/elsewhere").status_code == 404
        assert listener.wait(0.05) is None, "refused callbacks do not end the wait"
        ok = httpx.get(base, params={"code": "the-code", "state": "the-state"})
        assert ok.status_code == 200 and "return to your terminal" in ok.text
        assert ok.headers["cache-control"] == "no-store" and ok.headers["content-type"].startswith("text/html")
        assert listener.wait(1) == Callback("the-code", None)
        again = httpx.get(base, params={"code": "second", "state": "the-state"})
        assert again.status_code == 409
        assert listener.wait(0) == Callback("the-code", None), "the first answer stands"


def test_denial_and_escaping() -> None:
    with LoopbackListener("s") as listener:
        page = httpx.get(listener.redirect_uri, params={"error": "access_denied", "state": "s",
                                                        "error_description": "<b>no</b>"})
        assert page.status_code == 200 and "You chose Deny" in page.text
        assert listener.wait(1) == Callback(None, "access_denied", "<b>no</b>")
    with LoopbackListener("s") as listener:
        page = httpx.get(listener.redirect_uri, params={"error": "<script>", "state": "s"})
        assert "<script>" not in page.text and "&lt;script&gt;" in page.text
