"""Personal profiles: an identity of their own (no account), signed up and signed in at `/profile`.

`accounts` (ids, emails, the signed-in profile, sign-out), `signup`, `signin`, `trusted_browsers`; settings,
privacy and recovery live beside them (`details`, `security`, `export`, `deletion`, `recovery`)."""
