"""What a finished local job used, as the kernel counted it when the runner reaped it.

    reap(pid) -> Reaped | None      None while the process still runs

`os.wait4` hands back the child's rusage with its exit status: CPU time (user + system)
and peak resident memory, both including every descendant the job itself waited for (a
job script's commands). The runner measures wall time itself, from start to reap.
Linux reports ru_maxrss in KiB. Stdlib only: the runner runs it alone.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

KIB_PER_MIB = 1024


@dataclass(frozen=True)
class Reaped:
    exit_code: int  # as subprocess says it: -N when killed by signal N
    cpu_time_s: float | None
    peak_memory_mb: float | None  # MiB, resident

    def as_status(self, wall_time_s: float) -> dict:
        """The values the runner keeps in status.json for this job."""
        values = {"exit_code": self.exit_code, "wall_time_s": round(max(wall_time_s, 0.0), 3)}
        if self.cpu_time_s is not None:
            values["cpu_time_s"] = round(self.cpu_time_s, 3)
        if self.peak_memory_mb is not None:
            values["peak_memory_mb"] = round(self.peak_memory_mb, 1)
        return values


def reap(pid: int) -> Reaped | None:
    """Reap the child `pid` if it has ended (never blocks)."""
    try:
        found, status, usage = os.wait4(pid, os.WNOHANG)
    except ChildProcessError:
        # Reaped elsewhere: its status and usage are gone (subprocess says exit 0 too).
        return Reaped(exit_code=0, cpu_time_s=None, peak_memory_mb=None)
    if found == 0:
        return None
    return Reaped(exit_code=os.waitstatus_to_exitcode(status),
                  cpu_time_s=usage.ru_utime + usage.ru_stime,
                  peak_memory_mb=usage.ru_maxrss / KIB_PER_MIB)
