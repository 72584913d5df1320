"""Request IDs: every AWS answer carries one, and the server log names it for failures."""

from __future__ import annotations

import os
import random

# Request IDs name a request in answers and logs; they guard nothing, so a per-process PRNG seeded from the
# OS is enough (no system call per request). Reseeded in a forked child so workers do not repeat each other.
_ids = random.Random(os.urandom(32))
os.register_at_fork(after_in_child=lambda: _ids.seed(os.urandom(32)))

_VERSION_BITS = ~(0xF << 76) & ~(0x3 << 62)
_V4 = (0x4 << 76) | (0x2 << 62)


def new_request_id() -> str:
    """A random version-4 UUID (RFC 4122 variant), formatted without the uuid module's overhead."""
    h = "%032x" % ((_ids.getrandbits(128) & _VERSION_BITS) | _V4)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
