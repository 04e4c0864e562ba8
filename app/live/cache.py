"""Fragments rendered once per change, not once per viewer.

When a topic changes, every page that shows it fetches its fragment at about the same
moment: 100 dashboards, 100 renders of the same counters. A web process's hub sees every
change of its experiments (app/live/stream.py), so it knows each topic's version; a fragment
rendered at a version is good until the next, for anyone with the same view of it (the same
path and acting role, and administrator or not). Only fragments built wholly from what the
commit hook publishes (app/live/changes.py) and holding nothing of one person (no CSRF
token, no name) may be cached this way; entries also expire after `max_age` seconds so a
relative time ("3 minutes ago") never goes stale for long, nor a change another web process
committed a moment before its message arrived here (this process's own commits count at
once: app/live/changes.on_publish).
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable

from app.live.stream import Hub


class FragmentCache:
    def __init__(self, hub: Hub, max_age: float = 5.0, size: int = 5000):
        self.hub = hub
        self.max_age = max_age
        self.size = size
        self._entries: dict[tuple, tuple] = {}
        self._lock = threading.Lock()

    def rendered(self, experiment_id: int, topic: str, key: tuple, render: Callable[[], str]):
        """The fragment for `key`, rendered by `render` unless this topic's version is
        already rendered (no cache while this process follows no changes)."""
        version = self.hub.version(experiment_id, topic)
        if version is None:
            return render()
        now = time.monotonic()
        with self._lock:
            entry = self._entries.get(key)
        if entry is not None and entry[0] == version and now - entry[1] < self.max_age:
            return entry[2]
        html = render()  # at `version` or later: stored under the version read before
        with self._lock:
            if len(self._entries) >= self.size:
                self._entries.clear()
            self._entries[key] = (version, now, html)
        return html


_caches: dict[int, FragmentCache] = {}


def for_hub(hub: Hub) -> FragmentCache:
    cache = _caches.get(id(hub))
    if cache is None:
        cache = _caches[id(hub)] = FragmentCache(hub)
    return cache
