"""The personal profile at `/profile`: sign-up, sign-in, My details, Security, Privacy & data, recovery, help.
Templates live in `web/templates/profile/`; each module lists its routes, gathered here (one line per module)."""

from starlette.routing import BaseRoute

from . import details, help, home, passkeys, privacy, recovery, security, signin, signup

routes: list[BaseRoute] = [
    *signin.routes,
    *signup.routes,
    *home.routes,
    *privacy.routes,
    *recovery.routes,
    *help.routes,
    *details.routes,
    *security.routes,
    *passkeys.routes,  # passkeys and security keys (sign-in, Security)
]
