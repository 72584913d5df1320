"""What every use case may need, built once at start."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

from ..core.passwords import PasswordHasher
from ..core.secretbox import SecretBox
from ..settings import Settings
from ..store.repositories import Store
from .mail import Mailer
from .throttling import Throttle


@dataclass(frozen=True)
class Client:
    """Where a request came from, for throttling and audit events."""

    ip: str = ""
    user_agent: str = ""
    browser_hash: str = ""


@dataclass
class Deps:
    settings: Settings
    store: Store
    hasher: PasswordHasher
    box: SecretBox
    mailer: Mailer
    throttle: Throttle
    clock: Callable[[], float] = field(default=time.time)
