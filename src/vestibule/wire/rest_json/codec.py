"""REST-JSON requests: JSON bodies and query-string members; answers as JSON."""

from __future__ import annotations

from ..aws_json.codec import dump, parse_body

CONTENT_TYPE = b"application/json"

__all__ = ["CONTENT_TYPE", "dump", "parse_body"]
