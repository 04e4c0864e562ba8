"""await_approval: a launch script marks its submission Awaiting Approval.

The embedded stand-in for poms_client's `await_approval` (app/launching/tools/), which a
job type's launch_script calls, as Mu2e's `AwaitApproval` job type does:

  await_approval [--submission_id N] [--experiment E] [--dataset D] [-v] [--test X]
                 [--poms_role R] [--dev | --int]

As the original it submits nothing and tells POMS the submission awaits approval; with
--dataset its dependents read that dataset once it is approved (the original makes the
poms_depends_<submission>_<n> definitions of it). The original calls POMS's update_submission;
this one says it on its output, which the launch records (app/launching/service.py), as
jobsub_submit's batch id is read there. A person then approves it (Completed) or refuses it.

Run with app/ on the path (`python -m launching.await_approval`): it imports nothing else.
"""
from __future__ import annotations

import argparse
import os
import re
import sys

_AWAITS = "== POMS: submission {sid} awaits approval =="
_PASSES = "== POMS: submission {sid} passes dataset {dataset} to its dependents =="
_AWAITS_RE = re.compile(r"^== POMS: submission (\d+) awaits approval ==$", re.M)
_PASSES_RE = re.compile(r"^== POMS: submission (\d+) passes dataset (\S+) to its dependents ==$",
                        re.M)


def awaiting(output: str, submission_id: int) -> tuple[bool, str]:
    """(whether the launch output says submission_id awaits approval, the dataset it passes
    to its dependents or "")."""
    waits = any(int(m.group(1)) == submission_id for m in _AWAITS_RE.finditer(output))
    dataset = next((m.group(2) for m in _PASSES_RE.finditer(output)
                    if int(m.group(1)) == submission_id), "")
    return waits, dataset


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="await_approval", description="mark the submission as awaiting approval")
    parser.add_argument("--submission_id", default=os.environ.get("POMS4_SUBMISSION_ID"))
    parser.add_argument("--experiment", default=os.environ.get("EXPERIMENT"))
    parser.add_argument("--dataset", help="dataset to propagate for dependencies")
    parser.add_argument("--verbose", "-v", action="store_true")
    parser.add_argument("--test")
    parser.add_argument("--poms_role", default="production")
    parser.add_argument("--dev", action="store_const", const="dev", dest="test_client")
    parser.add_argument("--int", action="store_const", const="int", dest="test_client")
    args = parser.parse_args(argv)
    if not args.submission_id or not str(args.submission_id).isdigit():
        print("await_approval: no submission id (--submission_id or POMS4_SUBMISSION_ID)",
              file=sys.stderr)
        return 2
    if args.dataset:
        print(_PASSES.format(sid=int(args.submission_id), dataset=args.dataset.strip()))
    print(_AWAITS.format(sid=int(args.submission_id)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
