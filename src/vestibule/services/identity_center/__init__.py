"""Identity Center use cases."""
