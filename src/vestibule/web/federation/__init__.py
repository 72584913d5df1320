"""Federation pages: the SAML assertion consumer and its role chooser, the SP metadata, the federation endpoint,
console sign-in with an OIDC provider, and the failure pages that name the cause (docs/federation.md)."""
