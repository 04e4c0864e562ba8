"""Real local-engine jobs with realistic logs, tracked and analysed by a real RQ worker.

  ran_submission(behaviours, memory="2000MB", stage=None) -> Submission
      submits one cluster whose job P behaves as behaviours[P] (see SCRIPT), records it as
      a submission of the tutorial's `reco` stage, tracks it until every job ended (the
      tracker enqueues the analysis job per finished job) and runs the RQ worker.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from app import states
from app.batch.base import JobRequest
from app.batch.local import LocalEngine
from app.extensions import db
from app.models import Submission
from app.models.base import utcnow
from tests.fixtures.launching import import_tutorial, wait_for, work
from workers.queues import enqueue_analysis

# Each job prints what art, ifdh and the wrapper print, then exits as its behaviour says.
# Behaviours: ok (efficiency from CPU/real), oom (bad_alloc at 2.1 GB, exit 137),
# stagein (an input file that cannot be read, exit 65), noise (big log, then bad_alloc),
# alloc (really holds 60 MB and burns 0.4 s of CPU, and says nothing of it in its log).
SCRIPT = r"""#!/bin/bash
set -u
behaviour=$(sed -n "$((PROCESS + 1))p" "$(dirname "$0")/behaviours.txt" 2>/dev/null)
[ -z "$behaviour" ] && behaviour=$(echo "$BEHAVIOURS" | tr ',' '\n' | sed -n "$((PROCESS + 1))p")
echo "jobsub_lite wrapper starting on $(hostname)"
echo "GLIDEIN_Site = \"${SITE:-FermiGrid}\""
echo "%MSG-i MF_INIT_OK:  Early JobSetup"
echo "Opened input file \"root://fndca1.fnal.gov/pnfs/mu2e/in.$PROCESS.art\""
case "$behaviour" in
  ok*)
    cpu=${behaviour#ok}; cpu=${cpu:-90}
    echo "Closed output file \"out.$PROCESS.art\""
    echo "TimeReport CPU = $cpu.000000 Real = 100.000000"
    echo "MemReport  VmPeak = 1900.5 VmHWM = 1200.0"
    echo "Art has completed and will exit with status 0."
    exit 0 ;;
  oom)
    echo "TimeReport CPU = 35.000000 Real = 100.000000"
    echo "MemReport  VmPeak = 2600.0 VmHWM = 2254.0"
    echo "terminate called after throwing an instance of 'std::bad_alloc'"
    echo "  what():  std::bad_alloc <script>alert(1)</script>"
    exit 137 ;;
  stagein)
    echo "TimeReport CPU = 5.000000 Real = 100.000000"
    echo "---- FileOpenError BEGIN"
    echo "  Unable to open input file root://fndca1.fnal.gov/pnfs/mu2e/in.$PROCESS.art"
    echo "---- FileOpenError END"
    echo "Art has completed and will exit with status 65."
    exit 65 ;;
  alloc)
    # Nothing in the log about time or memory: only the engine's measure says what it used.
    python3 -c "
import time
block = b'x' * (60 * 2**20)
start = time.process_time()
while time.process_time() - start < 0.4:
    pass
print('allocated', len(block))
"
    exit 0 ;;
  noise)
    for i in $(seq 1 3000); do echo "Begin processing the ${i}th record. run: 1210 event: $i"; done
    echo "TimeReport CPU = 15.000000 Real = 100.000000"
    echo "std::bad_alloc while reading event 3001"
    for i in $(seq 3001 3200); do echo "after line $i"; done
    exit 137 ;;
esac
exit 3
"""


@pytest.fixture
def tutorial_campaign(launch_app):
    return import_tutorial()


def stage_named(campaign, name: str = "reco"):
    return next(s for s in campaign.stages if s.name == name)


@pytest.fixture
def ran_submission(launch_app, tutorial_campaign, tmp_path):
    made = []

    def run(behaviours: list[str], memory: str = "2000MB", stage=None) -> Submission:
        stage = stage or stage_named(tutorial_campaign)
        script = tmp_path / f"job{len(made)}.sh"
        script.write_text(SCRIPT)
        script.chmod(0o755)
        engine = LocalEngine(launch_app.config["POMS_BATCH_DIR"], slots=4)
        submission = Submission(
            campaign_stage_id=stage.id, experiment_id=stage.campaign.experiment_id,
            launcher_id=tutorial_campaign.owner_id, origin="test", engine="local",
            launcher_kind="local", launch_claimed_at=utcnow(),
        )
        db.session.add(submission)
        db.session.flush()
        batch_id = engine.submit(JobRequest(
            executable=str(script), count=len(behaviours), memory=memory,
            env={"BEHAVIOURS": ",".join(behaviours)}, submission_id=submission.id,
        ))
        submission.batch_id, submission.batch_ids = batch_id, [batch_id]
        submission.launch_finished_at = utcnow()
        states.transition(submission, states.IDLE, f"test launch: batch id {batch_id}")
        db.session.commit()
        made.append(submission.id)

        from app.tracking.tracker import track_submissions

        finished: list[int] = []

        def ended():
            result = track_submissions([submission.id], launch_app.config)
            finished.extend(result.finished_jobs)
            db.session.expire_all()
            row = db.session.get(Submission, submission.id)
            return row.jobs_total == len(behaviours) and row.jobs_finished == len(behaviours)

        wait_for(ended, timeout=60, what="the jobs to end")
        # What workers/jobs.py does after a tracking pass: the finished jobs to analyse.
        enqueue_analysis(launch_app.config["POMS_REDIS_URL"], finished)
        work(launch_app)
        return db.session.get(Submission, submission.id)

    return run


def job_dir(app, batch_job_id: str) -> Path:
    cluster, rest = batch_job_id.split(".", 1)
    return Path(app.config["POMS_BATCH_DIR"]) / "clusters" / cluster / rest.split("@")[0]
