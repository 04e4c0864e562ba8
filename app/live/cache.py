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
Such renders are shared between the web processes too, through Redis (`shared`): at each
period's start every process was rendering the same dashboard at once, and the requests
behind those renders were the slowest of all. One process renders (it holds a short Redis
lock); the others wait for its render a moment, or render their own if it is late.
"""
from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable

from redis import Redis

from app.live.stream import Hub

SHARED = "poms:live:render:"  # + the key's digest: "<started>\n<html>"; + ":lock"


class FragmentCache:
    def __init__(self, hub: Hub, max_age: float = 5.0, size: int = 5000,
                 shared: Redis | None = None, shared_wait: float = 1.0):
        self.hub = hub
        self.max_age = max_age
        self.size = size
        self.shared = shared
        self.shared_wait = shared_wait
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
            found = None
            if cover is not None and self.shared is not None:
                found = self._from_others(key, cover, render)
            if found is None:
                # At `version` or later: stored under the version read before.
                found = mine[1], render()
            started, html = found
            with self._lock:
                if len(self._entries) >= self.size:
                    self._entries.clear()
                kept = self._entries.get(key)
                if kept is None or kept[1] < started:  # two at once: the later render stays
                    # Another process's render, begun before a change this one had seen
                    # when it asked, serves only the events it covers.
                    made_at = version if started >= mine[1] else None
                    self._entries[key] = (made_at, started, time.monotonic(), html)
            return html
        finally:
            with self._lock:
                if self._flights.get(key) is mine:
                    del self._flights[key]
            mine[2].set()

    def _from_others(self, key: tuple, cover: float, render: Callable[[], str]
                     ) -> tuple[float, str] | None:
        """(when it started, the html) of a render covering `cover`: another process's,
        kept in Redis, or this one's, rendered here and kept there for the others. None:
        Redis does not answer, or the process rendering it is late (render your own)."""
        name = SHARED + hashlib.sha256(repr(key).encode()).hexdigest()
        deadline = time.monotonic() + self.shared_wait
        try:
            while True:
                found = self._shared_render(name, cover)
                if found is not None:
                    return found
                if self.shared.set(name + ":lock", b"1", nx=True,
                                   px=int(self.shared_wait * 1000)):
                    break  # this process renders
                if time.monotonic() > deadline:
                    return None
                time.sleep(0.01)
        except Exception:  # noqa: BLE001 (Redis, or something else at its address): render here
            return None
        started = time.time()
        try:
            html = render()
            self.shared.set(name, f"{started:.6f}\n".encode() + html.encode(),
                            px=int(self.max_age * 1000))
            return started, html
        except Exception:  # noqa: BLE001 (as above): this render stands
            return started, html
        finally:
            try:
                self.shared.delete(name + ":lock")
            except Exception:  # noqa: BLE001 (as above): the lock expires by itself
                pass

    def _shared_render(self, name: str, cover: float) -> tuple[float, str] | None:
        stored = self.shared.get(name)
        if stored is None:
            return None
        head, _, body = stored.partition(b"\n")
        started = float(head)
        return (started, body.decode()) if started >= cover else None


_caches: dict[int, FragmentCache] = {}


def for_hub(hub: Hub, shared: Redis | None = None) -> FragmentCache:
    cache = _caches.get(id(hub))
    if cache is None:
        cache = _caches[id(hub)] = FragmentCache(hub, shared=shared)
    return cache
