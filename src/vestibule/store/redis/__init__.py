"""Redis implementations: throttle counters, the invalidation channel, and a lease for periodic jobs."""

from .channel import RedisChannel
from .client import RedisClient, connect
from .lease import RedisLease
from .throttle import RedisThrottle

__all__ = ["RedisChannel", "RedisClient", "RedisLease", "RedisThrottle", "connect"]
