"""Pure rules: no web framework, no database."""
