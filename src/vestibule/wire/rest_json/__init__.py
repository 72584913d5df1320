"""AWS REST-JSON (the method and path name the operation): the SSO portal and SSO-OIDC."""
