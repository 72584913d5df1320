"""The command-line side of Identity Center sign-in (`vestibule sso configure|login|logout`): it runs on the
user's computer, writes `~/.aws/config` and the token cache botocore reads, and talks to a Vestibule server
only through botocore's own `sso-oidc` and `sso` clients. It never builds the server runtime nor opens the
server database."""
