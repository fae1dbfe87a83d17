"""One Redis client per URL and process, for the project's own keys.

redis-py's connection pool notices a fork and opens new connections in the child,
so a client made before the worker forks its pool is still safe to use after.
"""

from __future__ import annotations

import functools

import redis

# Every key that the project's own code writes starts with this; docs/DESIGN.md
# lists them. (Celery's and kombu's keys have their own names.)
KEY_PREFIX = "project:"


@functools.cache
def redis_client(url: str) -> redis.Redis:
    """A client for `url`; the same object on every call in this process."""
    return redis.Redis.from_url(url, health_check_interval=30)
