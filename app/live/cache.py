"""Fragments rendered once per change, not once per viewer.

When a topic changes, every page that shows it fetches its fragment at about the same
moment: 100 dashboards, 100 renders of the same counters. A web process's hub sees every
change of its experiments (app/live/stream.py), so it knows each topic's version; a fragment
rendered at a version is good until the next, for anyone with the same view of it (the same
path and acting role, and administrator or not, and whatever else the caller puts in the
key). Only fragments built wholly from what the commit hook publishes (app/live/changes.py)
and holding nothing of one person but the CSRF token (which the caller swaps in per
request) may be cached this way; entries also expire after `max_age` seconds so a relative
time ("3 minutes ago") never goes stale for long, nor a change another web process
committed a moment before its message arrived here (this process's own commits count at
once: app/live/changes.on_publish).

A fetch made for an event says what the event covers (`cover`, seconds since the epoch:
app/live/stream.events): any render that started after it will do, whatever changed since.
While a topic changes all the time its version moves on between two pages' fetches, but
their events, paced to the same period, cover the same moment: one render serves them all.
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
        self._entries: dict[tuple, tuple] = {}  # key -> (version, started, stored, html)
        self._flights: dict[tuple, tuple] = {}  # key -> (version, started, done): rendering
        self._lock = threading.Lock()

    def rendered(self, experiment_id: int, topic: str, key: tuple, render: Callable[[], str],
                 cover: float | None = None):
        """The fragment for `key`, rendered by `render` unless this topic's version is
        already rendered, or (given `cover`) a render that started after `cover` is kept
        (no cache while this process follows no changes). A render that will do and is
        under way is waited for, not repeated: the pages that ask at once get one render.
        `render` must read the database afresh: what it shows is stored as of the moment
        it was called."""
        version = self.hub.version(experiment_id, topic)
        if version is None:
            return render()

        def will_do(made_at: tuple) -> bool:
            return made_at[0] == version if cover is None else made_at[1] >= cover

        while True:
            with self._lock:
                entry = self._entries.get(key)
                if entry is not None and time.monotonic() - entry[2] < self.max_age \
                        and will_do(entry):
                    return entry[3]
                flight = self._flights.get(key)
                if flight is None or not will_do(flight):
                    mine = self._flights[key] = (version, time.time(), threading.Event())
                    break
            if not flight[2].wait(timeout=self.max_age):
                return render()  # it takes too long: this page renders its own
        try:
            html = render()  # at `version` or later: stored under the version read before
            with self._lock:
                if len(self._entries) >= self.size:
                    self._entries.clear()
                kept = self._entries.get(key)
                if kept is None or kept[1] < mine[1]:  # two at once: the later render stays
                    self._entries[key] = (version, mine[1], time.monotonic(), html)
            return html
        finally:
            with self._lock:
                if self._flights.get(key) is mine:
                    del self._flights[key]
            mine[2].set()


_caches: dict[int, FragmentCache] = {}


def for_hub(hub: Hub) -> FragmentCache:
    cache = _caches.get(id(hub))
    if cache is None:
        cache = _caches[id(hub)] = FragmentCache(hub)
    return cache
