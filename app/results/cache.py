"""What the results pages computed, kept while what it was computed from is unchanged.

A submission's (or a stage's) aggregates are a few GROUP BY queries over every one of its
analysed jobs: tens of milliseconds at 10,000 jobs, asked again by every view and every
poll. They change only when a job analysis row is written: a new row (a job analysed) or
an UPDATE (a re-labelling, which raises the row's `revision`). So each answer is kept
under the count of the scope's rows and the sum of their revisions, read from an index in
one query: any write changes one or the other, and the next view computes afresh. (Rows
are never deleted but with their submission.)

Kept per database engine (one per app, so tests' databases never share answers), the
newest SIZE answers, least recently used out first.
"""
from __future__ import annotations

import copy
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TypeVar

T = TypeVar("T")
SIZE = 512


class AnswerCache:
    def __init__(self, size: int = SIZE):
        self.size = size
        self._answers: OrderedDict[Hashable, object] = OrderedDict()
        self._lock = threading.Lock()
        self.computed = 0  # answers computed (not found), for tests to see the cache work

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        """A copy of the answer kept for `key`, else compute() kept and returned (callers
        may change what they get)."""
        with self._lock:
            if key in self._answers:
                self._answers.move_to_end(key)
                return copy.deepcopy(self._answers[key])
        answer = compute()  # outside the lock: one slow page holds no other
        with self._lock:
            self.computed += 1
            self._answers[key] = copy.deepcopy(answer)
            while len(self._answers) > self.size:
                self._answers.popitem(last=False)
        return answer


_per_engine: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_per_engine_lock = threading.Lock()


def cache_for(engine) -> AnswerCache:
    with _per_engine_lock:
        found = _per_engine.get(engine)
        if found is None:
            found = _per_engine[engine] = AnswerCache()
        return found
