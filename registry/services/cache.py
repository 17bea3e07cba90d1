"""In-memory snapshots for the verification hot path, invalidated on every change.

Every committed write through this process clears the cache at once (a commit hook of
``write_transaction``, so no service can forget it).  Another process (a
second app server) sees a change after at most ``REGISTRY_VERIFY_CACHE_TTL`` seconds.
"""

from __future__ import annotations

import time
from typing import Any

from registry.db import after_every_commit

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


@after_every_commit
def invalidate_all() -> None:
    """Runs after every committed write transaction (``registry.db.write_transaction``)."""
    global _generation
    _generation += 1
    _snapshots.clear()
