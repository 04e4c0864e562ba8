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
import queue
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
    def __init__(self, experiment_id: int, topics: set[str]):
        self.experiment_id = experiment_id
        self.topics = topics
        self.queue: queue.SimpleQueue = queue.SimpleQueue()


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
        self.saw(experiment_id, names)
        with self._lock:
            listeners = list(self._listeners.get(experiment_id, ()))
        for listener in listeners:
            wanted = names & listener.topics
            if wanted:
                listener.queue.put(wanted)


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
           aggregate_spacing: float | None = None, heartbeat: float = 15.0, retry_ms: int = 2000):
    """The text of one page's event stream (a generator; ends when the hub breaks).

    A submission's topics are sent at most once per `spacing` seconds; the aggregates
    (experiment, campaign, stage: whatever any of their submissions does changes them, up to
    every job change) at most once per `aggregate_spacing`, since each costs the page a
    fetch of a page-wide summary.
    """
    aggregate_spacing = spacing if aggregate_spacing is None else aggregate_spacing

    def spacing_of(name: str) -> float:
        return spacing if name.startswith("submission-") else aggregate_spacing

    last_sent: dict[str, float] = {}
    due: dict[str, float] = {}  # topics changed again within `spacing`: sent when due
    try:
        yield f"retry: {retry_ms}\n: open\n\n"
        quiet_since = time.monotonic()
        while True:
            now = time.monotonic()
            wait = min([heartbeat - (now - quiet_since), *(t - now for t in due.values())])
            try:
                item = listener.queue.get(timeout=max(wait, 0.0))
            except queue.Empty:
                item = ()
            if item is _BROKEN:
                return
            now = time.monotonic()
            send = []
            for name in item:
                gap = spacing_of(name)
                if now - last_sent.get(name, -gap) >= gap:
                    send.append(name)
                    due.pop(name, None)
                elif name not in due:
                    due[name] = last_sent[name] + gap
            for name, at in list(due.items()):
                if at <= now:
                    send.append(name)
                    del due[name]
            if send:
                for name in send:
                    last_sent[name] = now
                quiet_since = now
                yield "".join(f"event: {name}\ndata: {name}\n\n" for name in sorted(send))
            elif now - quiet_since >= heartbeat:
                quiet_since = now
                yield ": still here\n\n"
    finally:
        hub.leave(listener)
