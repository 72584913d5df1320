"""Request IDs: every AWS answer carries one, and the server log names it for failures."""

from __future__ import annotations

import os


def new_request_id() -> str:
    """A random version-4 UUID, formatted without the uuid module's overhead."""
    raw = bytearray(os.urandom(16))
    raw[6] = (raw[6] & 0x0F) | 0x40
    raw[8] = (raw[8] & 0x3F) | 0x80
    h = raw.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
