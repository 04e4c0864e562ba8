"""How much memory a recovery of memory failures asks for.

A job type sets a factor (> 1) and a cap; the recovery launch asks for

    min(cap, ceil(max(requested, largest peak seen among the memory failures) * factor))

rounded up to a whole MB. When the request is already at the cap, nothing can be raised
and the caller should say so rather than relaunch the same failure.
"""
from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class MemoryRaise:
    request_mb: int  # what the recovery asks for
    raised: bool  # more than before
    capped: bool  # the cap decided it
    reason: str


def raised_memory_request(requested_mb: float, factor: float, cap_mb: float,
                          peak_mb: float | None = None) -> MemoryRaise:
    if requested_mb <= 0:
        raise ValueError("the memory requested must be positive")
    if factor <= 1:
        raise ValueError(f"the memory factor must be above 1, not {factor}")
    if cap_mb <= 0:
        raise ValueError("the memory cap must be positive")
    base = max(requested_mb, peak_mb or 0.0)
    wanted = math.ceil(base * factor)
    if wanted <= cap_mb:
        return MemoryRaise(wanted, wanted > requested_mb, False,
                           f"{requested_mb:g} MB x {factor:g} = {wanted} MB"
                           if base == requested_mb else
                           f"peak {peak_mb:g} MB x {factor:g} = {wanted} MB")
    capped = math.floor(cap_mb)
    if capped <= requested_mb:
        return MemoryRaise(math.ceil(requested_mb), False, True,
                           f"already at the cap of {cap_mb:g} MB: raising memory cannot help")
    return MemoryRaise(capped, True, True, f"{wanted} MB wanted, capped at {cap_mb:g} MB")
