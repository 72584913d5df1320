"""Federation (docs/federation.md): identity providers' tokens and assertions turned into role sessions, console
sessions and portal sign-ins, and the failures that explain themselves."""
