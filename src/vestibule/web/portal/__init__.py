"""The access portal of an Identity Center instance at `/portal/<identity store ID or subdomain>/`: sign-in of
directory users and the pages they see. Templates live in `web/templates/portal/`."""

from starlette.routing import BaseRoute

from . import home, mfa, password, saml, signin, webauthn_keys

routes: list[BaseRoute] = [*signin.routes, *password.routes, *password.forgot_routes, *mfa.routes,
                           *webauthn_keys.routes, *saml.routes, *home.routes]
