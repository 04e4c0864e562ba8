"""Which failure a job log is named by when several signatures match: its root cause.

A failing job rarely prints one error. An expired proxy makes the copy of the output fail;
a crash leaves no output, so the copy fails after it; a broken CVMFS makes the FHiCL
configuration unreadable; running out of memory ends with the batch system's kill. The
error printed last (the copy, the kill) is the consequence; the job is named by the cause.

So the categories are ranked, causes ahead of their consequences:

  authentication  an expired or missing proxy or token fails every transfer and SAM call
                  after it (stage-in, stage-out)
  memory          out of memory ends in std::bad_alloc, a crash or a kill (software, site)
  timeout         the wall-time limit ends in a kill (site)
  site            the node's disk, CVMFS or the batch system broke what the job did next
                  (software errors, failed copies)
  stage-in        an input file that cannot be read fails the program reading it (software)
  software        a crash or a configuration error leaves no output to copy (stage-out)
  stage-out       copying the outputs is the job's last step: a failure there is its own
                  cause only when nothing earlier failed

A signature matching a line of the log beats one matching only the exit code (analysis.py);
among the signatures matching lines, the best-ranked category wins, and within a category
the experiment's table order (the signatures page's up and down) decides. Plain Python.
"""
from __future__ import annotations

from collections.abc import Sequence

from app.logs.signatures import CATEGORIES, Signature

ROOT_CAUSE_ORDER = ("authentication", "memory", "timeout", "site", "stage-in", "software",
                    "stage-out")

if sorted(ROOT_CAUSE_ORDER) != sorted(CATEGORIES):  # a new category must be given a rank
    raise RuntimeError("app/logs/precedence.py: rank every category of signatures.py")


def rank(category: str) -> int:
    """0 for the category most likely to be a root cause; unknown categories last."""
    try:
        return ROOT_CAUSE_ORDER.index(category)
    except ValueError:
        return len(ROOT_CAUSE_ORDER)


def by_root_cause(signatures: Sequence[Signature]) -> list[Signature]:
    """The signatures in the order they are tried: by category rank, then table order."""
    return sorted(signatures, key=lambda sig: rank(sig.category))  # stable: keeps table order
