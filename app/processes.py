"""Whether a process on this machine still runs: the launch claims, the workers' work horses
and the local engine's runners all ask it."""
from __future__ import annotations

import os


def pid_alive(pid: int | None) -> bool:
    """True while `pid` runs. A zombie counts as gone: its exit is only waiting for a parent
    (a worker that died, or PID 1) to reap it, and signal 0 still reaches it."""
    if not pid:
        return False
    try:
        with open(f"/proc/{pid}/stat") as stat:
            if stat.read().rpartition(")")[2].split()[0] in ("Z", "X"):
                return False
    except FileNotFoundError:
        return False
    except OSError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
