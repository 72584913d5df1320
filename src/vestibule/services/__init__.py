"""Use cases: load, decide with the pure core, save. No web framework here."""
