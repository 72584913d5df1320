"""Diagnostics for bench/latency_probe.py only: loaded by the server processes when this folder
is on PYTHONPATH. Never used by the project itself.

VB_KEY_TTL=<seconds>  changes the default TTL of the access-key cache (KeyDirectory) so the
                      effect of its expiry on tail latency can be seen.
VB_GC_LOG=<dir>       writes one line per garbage collection (time, generation, ms, collected)
                      to <dir>/gc-<pid>.txt.
"""

import gc
import os
import time

if os.environ.get("VB_KEY_TTL"):
    from vestibule.services import aws_identity as _aws_identity

    _aws_identity.KeyDirectory.__init__.__defaults__ = (float(os.environ["VB_KEY_TTL"]),)

if os.environ.get("VB_GC_LOG"):
    _started: dict[str, float] = {}
    _out = []

    def _gc_callback(phase: str, info: dict) -> None:
        if phase == "start":
            _started["t"] = time.perf_counter()
            return
        took = time.perf_counter() - _started.get("t", time.perf_counter())
        if not _out:
            path = os.path.join(os.environ["VB_GC_LOG"], f"gc-{os.getpid()}.txt")
            _out.append(open(path, "a", buffering=1))  # noqa: SIM115 (kept open for the process lifetime)
        _out[0].write(f"{time.time():.3f} {info['generation']} {took * 1000:.3f} {info['collected']}\n")

    gc.callbacks.append(_gc_callback)
