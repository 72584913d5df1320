"""The page a federated sign-in failure shows: the cause in words the user can act on (only the failure's
`user` values, never its administrator details), and the reference ID the administrator looks up."""

from __future__ import annotations

from string import Formatter

from starlette.requests import Request
from starlette.responses import Response

from ...core.federation_failures import Cause, FederationFailure
from ..i18n import Translator, catalogue
from ..rendering import render, same_origin_path, translator

_DIRECTIONS = frozenset({"ahead", "behind"})


def failure_message(t: Translator, failure: FederationFailure) -> str:
    """`federation.failure.<cause>` filled with the failure's user values; `<key>.plain` (the same advice
    without the values) when one it names is missing. The clock's skew picks `clock_skew_ahead|behind`."""
    key = f"federation.failure.{failure.cause.value}"
    if failure.cause is Cause.CLOCK_SKEW and failure.user.get("direction") in _DIRECTIONS:
        key = f"{key}_{failure.user['direction']}"
    text = t(key)
    if text == key:
        return t("federation.failure.unknown")
    names = {name for _, name, _, _ in Formatter().parse(text) if name}
    if not names:
        return text
    if names <= failure.user.keys():
        return text.format_map({name: failure.user[name] for name in names})
    plain = f"federation.failure.{failure.cause.value}.plain"
    if plain in catalogue(t.locale) or plain in catalogue("en"):
        return t(plain)
    return t("federation.failure.unknown")


def failure_response(request: Request, failure: FederationFailure, reference: str, *, status: int = 400,
                     start_over: str = "/") -> Response:
    """The failure page in the request's language (status 400 unless told); `start_over`: the sign-in page to
    go back to (a path of this site; the access portal's own start page for the portal's doors)."""
    message = failure_message(translator(request), failure)
    return render(request, "federation/failure.html", status=status, cause=failure.cause.value, message=message,
                  reference=reference, start_over=same_origin_path(start_over))
