"""Issue 17, high and medium: a submission acts only on the jobs its own launch submitted.

An analysis member posted another submission's batch id to their own submission's
`update`, or had their launch print a foreign `Use job id ...` line, then killed their own
submission: the production submission's jobs died. And one foreign or malformed id stalled
(or crashed) tracking for every submission in its batch. Now the batch system decides: an
id is taken only when the engine confirms the cluster was submitted for that submission by
its launch's account; actions act only on confirmed ids; each submission's tracking
failure is its own, shown on its page.
"""
from __future__ import annotations

import pytest

from app.batch.engines import engine_from_config
from app.extensions import db
from app.models import BatchAction, Submission
from app.tracking.tracker import track_pass
from tests.fixtures.launching import wait_for, work
from tests.security.conftest import FRONT_END, campaign_ini, launch, upload

JOB = ("printf '#!/bin/sh\\necho job $PROCESS\\nsleep 60\\n' > job.sh; chmod +x job.sh")


def jobs_ini(name: str, role: str, setup: str, launch_script: str) -> str:
    return campaign_ini(name, role=role, login_setup=setup, job_type=f"{name}_jobs",
                        definitions=f"""
[login_setup {setup}]
host = localhost
account = someone
setup = {JOB}

[job_type {name}_jobs]
launch_script = {launch_script}
parameters = []
""")


SUBMIT = "jobsub_submit -G mu2e -N 2 file://$PWD/job.sh"


def api(app, path: str, user: str, **kwargs):
    return app.test_client().post(f"/api/v1/experiments/mu2e{path}",
                                  headers={"X-Remote-User": user},
                                  environ_base={"REMOTE_ADDR": FRONT_END}, **kwargs)


def states(app, submission):
    return sorted(j.state for j in engine_from_config(app.config).query(submission.batch_ids))


@pytest.fixture
def production_running(isolated_app, people):
    campaign = upload(jobs_ini("prod", "production", "pro_here", SUBMIT), people["pat"])
    submission = launch(isolated_app, campaign.stages[0], people["pat"])
    assert submission.batch_ids, submission.launch_error
    wait_for(lambda: states(isolated_app, submission) == ["Running"] * 2,
             what="production's jobs running")
    yield submission
    engine_from_config(isolated_app.config).remove(submission.batch_ids)
    wait_for(lambda: states(isolated_app, submission) == ["Removed"] * 2,
             what="production's jobs removed at the end")


@pytest.fixture
def analysis_running(isolated_app, people):
    campaign = upload(jobs_ini("ana", "analysis", "ana_here", SUBMIT), people["alice"])
    submission = launch(isolated_app, campaign.stages[0], people["alice"])
    assert submission.batch_ids, submission.launch_error
    yield submission
    engine_from_config(isolated_app.config).remove(submission.batch_ids)


def test_another_submission_s_batch_id_is_not_taken_and_never_killed(
        isolated_app, production_running, analysis_running):
    prod, mine = production_running, analysis_running
    answer = api(isolated_app, f"/submissions/{mine.id}/update", "alice",
                 json={"jobsub_job_id": prod.batch_id})
    assert answer.status_code == 409, answer.get_json()
    assert f"submitted for submission {prod.id}" in answer.get_json()["error"] or \
        "not submitted by this launch's account" in answer.get_json()["error"]
    db.session.expire_all()
    assert prod.batch_id not in db.session.get(Submission, mine.id).batch_ids
    # Even an id stored before ids were confirmed is never acted on.
    own = list(mine.batch_ids)
    row = db.session.get(Submission, mine.id)
    row.batch_ids = [*row.batch_ids, prod.batch_id]
    db.session.commit()
    answer = api(isolated_app, f"/submissions/{mine.id}/kill", "alice")
    assert answer.status_code == 202, answer.get_json()  # requested: a worker kills
    work(isolated_app)
    engine = engine_from_config(isolated_app.config)
    wait_for(lambda: sorted(j.state for j in engine.query(own)) == ["Removed"] * 2,
             what="alice's own jobs removed")
    assert states(isolated_app, prod) == ["Running"] * 2, "production's jobs live on"
    # Its own id, reported again, is taken.
    assert api(isolated_app, f"/submissions/{mine.id}/update", "alice",
               json={"jobsub_job_id": own[0]}).status_code == 200


@pytest.mark.parametrize("bad", ["12.0@local; rm -rf /", "٣.0@local", "1.0@", "x" * 300])
def test_a_malformed_batch_id_is_refused_at_the_door(isolated_app, analysis_running, bad):
    answer = api(isolated_app, f"/submissions/{analysis_running.id}/update", "alice",
                 json={"jobsub_job_id": bad})
    assert answer.status_code == 422
    assert answer.get_json()["field"] == "jobsub_job_id"


def test_a_launch_that_prints_a_foreign_job_id_takes_nothing(isolated_app, people,
                                                             production_running):
    prod = production_running
    claim = f"echo Use job id {prod.batch_id} to retrieve output"
    campaign = upload(jobs_ini("liar", "analysis", "ana_here", claim), people["alice"])
    submission = launch(isolated_app, campaign.stages[0], people["alice"])
    assert submission.state == "LaunchFailed"
    assert not submission.batch_ids
    assert f"{prod.batch_id}: not submitted by this launch's account" in \
        submission.launch_error


def test_a_launch_posing_as_another_submission_gets_neither(isolated_app, people,
                                                            production_running):
    """The launch says it is production's submission (POMS_TASK_ID) when it submits: its
    cluster is in the analysis account's area, so production never takes it, and it is not
    the launch's own submission's either."""
    prod = production_running
    pose = f"POMS_TASK_ID={prod.id} POMS4_SUBMISSION_ID={prod.id} {SUBMIT}"
    campaign = upload(jobs_ini("poser", "analysis", "ana_here", pose), people["alice"])
    submission = launch(isolated_app, campaign.stages[0], people["alice"])
    output = open(submission.launch_output).read()
    claimed = output.split("Use job id ", 1)[1].split()[0]
    assert claimed.endswith("@local.pomst-ana")
    assert submission.state == "LaunchFailed" and not submission.batch_ids
    assert f"submitted for submission {prod.id}, not {submission.id}" in \
        submission.launch_error
    answer = api(isolated_app, f"/submissions/{prod.id}/update", "pat",
                 json={"jobsub_job_id": claimed})
    assert answer.status_code == 409
    engine_from_config(isolated_app.config).remove([claimed])


def test_one_bad_batch_id_stalls_no_one_else(isolated_app, people, analysis_running):
    good = analysis_running
    campaign = upload(jobs_ini("other", "analysis", "ana_here", "true"), people["bob"])
    rows = []
    for ids in (["12.0@local; rm -rf /"], ["5.0@elsewhere.example"]):
        row = Submission(campaign_stage_id=campaign.stages[0].id,
                         experiment_id=campaign.experiment_id, state="Idle",
                         launcher_id=people["bob"].id, batch_ids=ids, batch_id=ids[0])
        db.session.add(row)
        rows.append(row)
    db.session.commit()
    result = track_pass(isolated_app.config)
    db.session.expire_all()
    tracked = db.session.get(Submission, good.id)
    assert tracked.jobs_total == 2 and not tracked.tracking_error
    malformed, foreign = (db.session.get(Submission, r.id) for r in rows)
    assert "is not a batch id" in malformed.tracking_error
    assert "does not belong to the local engine" in foreign.tracking_error
    assert len(result.errors) == 2
    # The page says why; a kill is refused by the worker that tries it (it asks the engine,
    # which a request never waits on: it used to be refused in the request, with a 409),
    # and the page says why, not a server error.
    client = isolated_app.test_client()
    page = client.get(f"/e/mu2e/submission/{malformed.id}", headers={"X-Remote-User": "bob"},
                      environ_base={"REMOTE_ADDR": FRONT_END}).get_data(as_text=True)
    assert "Tracking problem" in page and "is not a batch id" in page
    requested = []
    for row in (malformed, foreign):
        answer = api(isolated_app, f"/submissions/{row.id}/kill", "bob")
        assert answer.status_code == 202, answer.get_json()
        requested.append(answer.get_json()["requested"]["id"])
    work(isolated_app)
    for row, action_id in zip((malformed, foreign), requested, strict=True):
        action = db.session.get(BatchAction, action_id)
        assert action.state == "refused" and "confirms as its own" in action.result
        assert db.session.get(Submission, row.id).state == "Idle"
        page = client.get(f"/e/mu2e/submission/{row.id}/summary",
                          headers={"X-Remote-User": "bob"},
                          environ_base={"REMOTE_ADDR": FRONT_END}).get_data(as_text=True)
        assert "kill by bob: not done:" in page and "confirms as its own" in page
