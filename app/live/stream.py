"""Server-Sent Events for the live pages, fed by one Redis subscription per web process.

The hub subscribes once (`poms:live:*`, a thread; a greenlet under gevent) and hands each
message to the open pages of that experiment whose topics it names. Each page's stream
(`events`) sends a topic at once, then at most once per `spacing` seconds however often it
changes (the last change of a burst is always sent), and a comment every `heartbeat`
seconds so a proxy keeps the connection and a closed one is noticed. When the subscription
breaks every stream ends: the browsers reconnect and fetch their fragments again
(app/static/live.js), which is how they catch up on what they missed.
"""
from __future__ import annotations

import logging
import math
import queue
import random
import threading
import time
from collections import defaultdict

from redis import Redis
from redis.exceptions import RedisError

from app.live import changes
from app.live.changes import CHANNEL

log = logging.getLogger(__name__)

_BROKEN = object()  # put on every listener's queue when the subscription breaks


class LiveUnavailable(Exception):
    """Redis does not answer: the page polls instead."""


class Listener:
    """A page's share of the hub: the changes told and not yet sent, per topic the first
    and last time the hub received one. Its stream is woken only when a topic becomes
    pending: a dashboard that follows `experiment` while it changes ten times a second
    wakes when its next event is due, not ten times a second."""

    def __init__(self, experiment_id: int, topics: set[str]):
        self.experiment_id = experiment_id
        self.topics = topics
        self.queue: queue.SimpleQueue = queue.SimpleQueue()
        self.pending: dict[str, list[float]] = {}
        self.lock = threading.Lock()

    def tell(self, names: set[str], received: float) -> None:
        woken = False
        with self.lock:
            for name in names:
                seen = self.pending.get(name)
                if seen is None:
                    self.pending[name] = [received, received]
                    woken = True
                else:
                    seen[1] = max(seen[1], received)
        if woken:
            self.queue.put(True)


class Hub:
    def __init__(self, redis_url: str):
        self.redis_url = redis_url
        self._listeners: dict[int, set[Listener]] = defaultdict(set)
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        # (experiment id, topic) -> how many changes this subscription has seen of it; the
        # subscription's own object first, so a new subscription never matches an old one.
        self._versions: dict[tuple[int, str], int] = defaultdict(int)
        self._subscription: object | None = None

    def version(self, experiment_id: int, topic: str) -> tuple | None:
        """Where this topic is (None while this process follows no changes)."""
        with self._lock:
            if self._subscription is None:
                return None
            return self._subscription, self._versions[(experiment_id, topic)]

    def listen(self, experiment_id: int, topics: set[str]) -> Listener:
        """A page's share of the subscription (LiveUnavailable when Redis does not answer)."""
        listener = Listener(experiment_id, topics)
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = self._subscribe()
                self._subscription = object()
                self._versions.clear()
            self._listeners[experiment_id].add(listener)
        return listener

    def leave(self, listener: Listener) -> None:
        with self._lock:
            self._listeners[listener.experiment_id].discard(listener)

    def open_pages(self) -> int:
        with self._lock:
            return sum(len(s) for s in self._listeners.values())

    def _subscribe(self) -> threading.Thread:
        # Subscribed here, in the asking request: Redis not answering is said at once.
        try:
            pubsub = Redis.from_url(self.redis_url, socket_connect_timeout=1,
                                    health_check_interval=30).pubsub(
                ignore_subscribe_messages=True)
            pubsub.psubscribe(f"{CHANNEL}*")
        except (RedisError, OSError) as err:
            raise LiveUnavailable(f"Redis at {self.redis_url} does not answer: {err}") from err
        thread = threading.Thread(target=self._run, args=(pubsub,), name="poms-live-hub",
                                  daemon=True)
        thread.start()
        return thread

    def _run(self, pubsub) -> None:
        try:
            for message in pubsub.listen():
                if message.get("type") == "pmessage":
                    self._dispatch(message["channel"], message["data"])
        except (RedisError, OSError) as err:
            log.warning("live pages' subscription to Redis at %s ended: %s", self.redis_url, err)
        finally:
            with self._lock:
                if self._thread is threading.current_thread():
                    self._thread = None  # the next page subscribes again
                    self._subscription = None
                everyone = [x for s in self._listeners.values() for x in s]
                self._listeners.clear()
            for listener in everyone:
                listener.queue.put(_BROKEN)
            try:
                pubsub.close()
            except (RedisError, OSError):
                pass

    def saw(self, experiment_id: int, names: set[str]) -> None:
        """Count a change of these topics (a fragment rendered before it is stale)."""
        with self._lock:
            for name in names:
                self._versions[(experiment_id, name)] += 1

    def _dispatch(self, channel: bytes, data: bytes) -> None:
        try:
            experiment_id = int(channel.decode()[len(CHANNEL):])
        except ValueError:
            return
        names = set(data.decode().split())
        received = time.time()
        self.saw(experiment_id, names)
        with self._lock:
            listeners = list(self._listeners.get(experiment_id, ()))
        for listener in listeners:
            wanted = names & listener.topics
            if wanted:
                listener.tell(wanted, received)


_hubs: dict[str, Hub] = {}
_hubs_lock = threading.Lock()


def _published_here(redis_url: str, topics: dict[int, set[str]]) -> None:
    hub = _hubs.get(redis_url)
    if hub is not None:
        for experiment_id, names in topics.items():
            hub.saw(experiment_id, names)


changes.on_publish(_published_here)


def hub_for(redis_url: str) -> Hub:
    with _hubs_lock:
        hub = _hubs.get(redis_url)
        if hub is None:
            hub = _hubs[redis_url] = Hub(redis_url)
        return hub


def events(hub: Hub, listener: Listener, *, spacing: float = 0.5,
           aggregate_spacing: float | None = None, heartbeat: float = 15.0, retry_ms: int = 2000,
           phase: float | None = None, spread: float = 0.0):
    """The text of one page's event stream (a generator; ends when the hub breaks).

    Each event's data is its topic and the time it covers (seconds since the epoch): every
    change the hub had received by then is in any render that started later. A fragment
    fetched for the event says it back (X-POMS-Live-Cover, app/static/live.js), so it may be
    answered from a render other pages share (app/live/cache.py).

    A submission's topic is sent at this page's own moment within `spread` seconds of its
    change (one commit changes many submissions: their pages' fetches do not all arrive
    together), then at most once per `spacing` seconds while it keeps changing (the last
    change of a burst always sent), covering its newest change.
    An aggregate's (experiment, campaign, stage: whatever any of their submissions does
    changes them) is sent within `aggregate_spacing` after that long a quiet
    spell, at this page's own moment, covering the change that ended it; while it keeps
    changing, once per `aggregate_spacing`, at this page's own moment (`phase`, random) in
    each period of the wall clock, covering up to the period's start. So every page that
    follows it asks within the period for the same render, each at a different moment:
    one render per period per web process, and no stampede.
    """
    aggregate_spacing = spacing if aggregate_spacing is None else aggregate_spacing
    phase = random.uniform(0, aggregate_spacing) if phase is None else phase
    delay = random.uniform(0, spread)  # this page's moment for its submissions' changes
    last_sent: dict[str, float] = {}

    def plan(name: str, first: float, last: float) -> tuple[float, float]:
        """(when to send `name`, the time that event covers), its unsent changes received
        from `first` to `last`"""
        if name.startswith("submission-"):
            return max(first + delay, last_sent.get(name, -spacing) + spacing), last
        quiet_until = last_sent.get(name, -aggregate_spacing) + aggregate_spacing
        if quiet_until <= first:
            # After a quiet spell: at this page's moment within the next period,
            # covering that first change (later ones go to the periods), so the pages that
            # follow it do not all ask at once, and ask for the same render.
            return first + phase, first
        period = (math.floor(first / aggregate_spacing) + 1) * aggregate_spacing
        # (a millisecond's slack: a period's slot stays due despite rounding)
        while period + phase < quiet_until - 0.001 or period <= first:
            period += aggregate_spacing
        return period + phase, period

    try:
        yield f"retry: {retry_ms}\n: open\n\n"
        quiet_since = time.time()
        while True:
            now = time.time()
            with listener.lock:
                due = [plan(name, *seen)[0] for name, seen in listener.pending.items()]
            wait = min([heartbeat - (now - quiet_since), *(at - now for at in due)])
            try:
                if listener.queue.get(timeout=max(wait, 0.0)) is _BROKEN:
                    return
            except queue.Empty:
                pass
            now = time.time()
            send = []
            with listener.lock:
                for name in sorted(listener.pending):
                    first, last = listener.pending[name]
                    at, covers = plan(name, first, last)
                    if at <= now:
                        send.append((name, covers))
                        last_sent[name] = at  # when it was due: a late wake shifts nothing
                        if last > covers:  # received after the period it covers: the next
                            listener.pending[name] = [covers, last]
                        else:
                            del listener.pending[name]
            if send:
                quiet_since = now
                yield "".join(f"event: {name}\ndata: {name} {covers:.3f}\n\n"
                              for name, covers in send)
            elif now - quiet_since >= heartbeat:
                quiet_since = now
                yield ": still here\n\n"
    finally:
        hub.leave(listener)
