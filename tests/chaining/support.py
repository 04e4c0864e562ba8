"""Helpers for chaining tests: submissions whose jobs have ended, and what their jobs
report, put in the embedded catalogue through its own interface."""
from __future__ import annotations

from sqlalchemy import select

from app import states
from app.catalog.embedded import EmbeddedCatalog
from app.catalog.outputs import project_name
from app.extensions import db
from app.launching import service
from app.launching.inputs import prepare_inputs
from app.models import Submission


def stage(campaign, name):
    return next(s for s in campaign.stages if s.name == name)


def finished(campaign, name, app, *, dataset=None, recovery_of=None, position=None,
             tmp_path=None):
    """A submission of `name` whose jobs have all ended (state Completed), with its
    catalogue project started over `dataset` when it reads one."""
    sub = service.request_launch(stage(campaign, name), campaign.owner, test=False,
                                 origin="test", config=app.config, dataset_override=dataset,
                                 recovery_of=recovery_of, recovery_position=position)
    db.session.flush()
    if dataset:
        prepare_inputs(sub, dataset, None, tmp_path / str(sub.id), app.config)
    states.transition(sub, states.IDLE, "launched")
    states.transition(sub, states.COMPLETED, "jobs: all ended")
    db.session.commit()
    return sub


def report(catalog, sub, job, consumed=(), failed=(), outputs=(), location="/data/out"):
    """What a finished job reports: its inputs consumed or failed, its outputs."""
    project = project_name(sub.id)
    for name in consumed:
        catalog.deliver(project, job, name)
        catalog.set_file_status(project, job, name, "consumed")
    for name in failed:
        catalog.deliver(project, job, name)
        catalog.set_file_status(project, job, name, "failed")
    if consumed or failed:
        catalog.end_process(project, job, "bad" if failed else "completed")
    for name in outputs:
        catalog.declare_file(name, metadata={"poms_task_id": str(sub.id), "version": "MDC2020t"},
                             parents=list(consumed))
        if location:
            catalog.add_location(name, location)
    db.session.commit()


def fcl_done(tutorial, app, n=4):
    catalog = EmbeddedCatalog(db.session, "mu2e")
    sub = finished(tutorial, "reco_fcl", app)
    names = [f"mu2e_reco.{sub.id}_{i}.fcl" for i in range(n)]
    report(catalog, sub, f"{sub.id}.0@local", outputs=names + [f"log_{sub.id}.txt"])
    return sub, names


def launched_from(parent):
    return list(db.session.scalars(select(Submission).where(
        Submission.origin == f"parent {parent.id}")))


