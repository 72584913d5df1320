"""The approval pages of the CLI sign-in: `/device` (type or confirm the user code of a device authorization,
RFC 8628), `GET /authorize` (the PKCE flow's browser step, RFC 7636), and the one confirmation page both lead
to, where a user signed in to the grant's access portal allows or denies. Templates live in
`web/templates/device/`."""

from starlette.routing import BaseRoute

from . import approval, authorize, user_code

routes: list[BaseRoute] = [*user_code.routes, *authorize.routes, *approval.routes]
