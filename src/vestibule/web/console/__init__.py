"""The console area: sign-in (root and IAM users), console home, security credentials, access keys,
sign-up, password recovery and the command line's sign-in (`/v1/authorize`). Templates live in
`web/templates/console/`."""

from starlette.routing import BaseRoute

from . import (
    access_keys,
    cli_login,
    contacts,
    help_pages,
    home,
    lifecycle,
    mfa_devices,
    mfa_recovery,
    reauth,
    recovery,
    security,
    signin,
    signup,
    webauthn_keys,
)

routes: list[BaseRoute] = [
    *signin.start_routes,
    *home.routes,
    *security.routes,
    *mfa_devices.routes,
    *webauthn_keys.routes,  # passkeys and security keys
    *reauth.routes,
    *mfa_recovery.routes,  # lost root MFA: /signin/recover..., recovery codes
    *lifecycle.routes,  # /console/close
    *contacts.routes,  # contact details, root email change and its undo link
    *access_keys.routes,
    *signup.routes,
    *recovery.routes,
    *cli_login.routes,  # /v1/authorize: the browser step of `vestibule login`
    *help_pages.routes,  # /help/network
]
# `/{account}/console` matches almost any first path segment: it goes after every other area's routes.
catch_all_routes: list[BaseRoute] = [*signin.iam_routes]
