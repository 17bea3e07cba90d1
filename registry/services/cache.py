"""In-memory snapshots for the verification hot path, invalidated on every change.

Changes made through this process clear the cache at once.  Another process (a
second app server) sees a change after at most ``REGISTRY_VERIFY_CACHE_TTL`` seconds.
"""

from __future__ import annotations

import time
from typing import Any

MAX_ITEMS = 100_000

_snapshots: dict[tuple[int, int], tuple[float, Any]] = {}
_generation = 0


def get(key: tuple[int, int], ttl: float) -> Any | None:
    hit = _snapshots.get(key)
    if hit is None:
        return None
    loaded_at, value = hit
    if time.monotonic() - loaded_at > ttl:
        return None
    return value


def put(key: tuple[int, int], value: Any, generation: int) -> None:
    # A change that happened while this snapshot was being read wins: drop it.
    if generation != _generation:
        return
    if len(_snapshots) >= MAX_ITEMS:
        _snapshots.clear()
    _snapshots[key] = (time.monotonic(), value)


def generation() -> int:
    return _generation


def invalidate_all() -> None:
    """Called by every service that changes an entry, a user, an enterprise or a register."""
    global _generation
    _generation += 1
    _snapshots.clear()
