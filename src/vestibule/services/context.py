"""What use cases may need, built once at start: the whole `Deps`, and the small ports cut from it."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ..core.breached_passwords import BreachedPasswords, checker
from ..core.passwords import PasswordHasher
from ..core.secretbox import SecretBox
from ..settings import Settings
from ..store.repositories import Store
from .federation.oidc_keys import OidcKeys
from .invalidation import InvalidationBus
from .mail import Mailer
from .mail_templates import MailTemplates
from .outbox import Bell, OutboxPorts
from .throttling import Throttle

Clock = Callable[[], float]


@dataclass(frozen=True)
class Client:
    """Where a request came from, for throttling and audit events."""

    ip: str = ""
    user_agent: str = ""
    browser_hash: str = ""
    signed_in_browser_hash: str = ""  # the browser's hash after a sign-in in this request (its ID is rotated)
    language: str = ""  # the language of the page that made the request ('' when no page did: CLI, API)


@dataclass
class Deps:
    """Everything, for callers not yet moved to ports; prefer the `*_ports` views in new code."""

    settings: Settings
    store: Store
    hasher: PasswordHasher
    box: SecretBox
    mailer: Mailer
    throttle: Throttle
    mail_templates: MailTemplates
    clock: Clock = field(default=time.time)
    bus: InvalidationBus = field(default_factory=InvalidationBus)
    mail_bell: Bell = field(default_factory=Bell)
    breached: BreachedPasswords = field(default_factory=checker)  # runtime.py adds the operator's file
    oidc_keys: OidcKeys = field(default_factory=OidcKeys)  # OIDC providers' discovery and keys, per issuer

    @property
    def key_ports(self) -> KeyPorts:
        return KeyPorts(self.store, self.box, self.bus, self._live_clock)

    @property
    def session_ports(self) -> SessionPorts:
        return SessionPorts(self.store, self.bus, self._live_clock, self.settings.session_absolute_seconds,
                            self.settings.session_idle_seconds, self.settings.root_session_idle_seconds)

    @property
    def outbox(self) -> OutboxPorts:
        """Queueing mail: sealed with the master key, the sender woken at commit."""
        return OutboxPorts(self.box, self.mail_bell)

    @property
    def throttle_ports(self) -> ThrottlePorts:
        return ThrottlePorts(self.throttle, self._live_clock)

    def _live_clock(self) -> float:
        return self.clock()  # tests swap `deps.clock`; ports built earlier follow the swap


@dataclass(frozen=True)
class KeyPorts:
    """What resolving and changing access keys uses: the keys' storage, their sealing, the bus."""

    store: Store
    box: SecretBox
    bus: InvalidationBus
    clock: Clock


@dataclass(frozen=True)
class SessionPorts:
    """What console sessions use: their storage, the bus (for revocations) and the time limits."""

    store: Store
    bus: InvalidationBus
    clock: Clock
    absolute_seconds: int
    idle_seconds: int
    root_idle_seconds: int


@dataclass(frozen=True)
class ThrottlePorts:
    throttle: Throttle
    clock: Clock
