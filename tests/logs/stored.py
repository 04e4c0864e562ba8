"""Failed jobs with stored logs, as another batch engine's jobs leave them: each log kept
under POMS_JOB_LOG_DIR (app/logs/joblog.py fetched_log_path), each job analysed by the real
analysis job (app/logs/jobs.py).

    stored_jobs(app, log_dir, [(log text, exit code), ...], experiment="mu2e") -> [Job]
"""
from __future__ import annotations

from itertools import count
from pathlib import Path

from sqlalchemy import select

from app.auth.members import ensure_member, find_or_create_experiment
from app.auth.session import find_or_create_experimenter
from app.campaigns import store
from app.campaigns.ini import parse_ini
from app.extensions import db
from app.logs.joblog import fetched_log_path
from app.logs.jobs import analyse_jobs
from app.models import Campaign, Job, Submission
from tests.fixtures.launching import TUTORIAL_INI

_cluster = count(70_000)


def _stage(experiment_name: str):
    experiment = find_or_create_experiment(experiment_name)
    user = find_or_create_experimenter("alice")
    ensure_member(experiment, user, "analysis")
    spec, _warnings = parse_ini(TUTORIAL_INI.read_text(), str(TUTORIAL_INI))
    campaign = db.session.scalar(select(Campaign).where(
        Campaign.experiment_id == experiment.id, Campaign.name == spec.name))
    if campaign is None:
        campaign = store.save_campaign(experiment, spec, user)
    db.session.flush()
    return next(s for s in campaign.stages if s.name == "reco"), user


def stored_jobs(app, log_dir: Path, logs: list[tuple[str, int | None]],
                experiment: str = "mu2e") -> list[Job]:
    app.config["POMS_JOB_LOG_DIR"] = str(log_dir)
    stage, user = _stage(experiment)
    submission = Submission(campaign_stage_id=stage.id, experiment_id=stage.campaign.experiment_id,
                            launcher_id=user.id, origin="test", engine="jobsub",
                            launcher_kind="local")
    db.session.add(submission)
    db.session.flush()
    jobs = []
    for text, exit_code in logs:
        batch_id = f"{next(_cluster)}.0@jobsub01.fnal.gov"
        path = fetched_log_path(app.config, batch_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        job = Job(submission_id=submission.id, batch_job_id=batch_id, exit_code=exit_code,
                  state="Completed" if exit_code == 0 else "Failed")
        db.session.add(job)
        jobs.append(job)
    db.session.commit()
    run = analyse_jobs([j.id for j in jobs], app.config)
    assert not run.errors, run.errors
    return jobs
