"""Two experiments full of things, for the role matrix (tests/security/test_role_matrix.py).

In each experiment (mu2e, where the people under test are members; nova, where none is):
a superuser `boss` who owns a production campaign (stages gen, reco, with its job type and
login setup), a submission of gen with one job and a catalogue file it made, the starting
failure signatures, a member `victim` (for the member pages), and a UconDB folder. Each
member holds uploaded files of their own (in POMS_UPLOADS_DIR, under <experiment id>/<user
id>/): a configuration file named after them and a credential; each person has an API token.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import select

from app.auth import members, tokens
from app.catalog.embedded import EmbeddedCatalog
from app.extensions import db
from app.logs import store as signatures
from app.models import Job, Submission
from app.models.catalog import CatalogFile
from app.models.chaining import JobOutput
from app.ucondb import store as ucondb
from app.uploads.store import save_credential, save_uploads
from app.watching import watches
from tests.api.support import bearer_token_file
from tests.auth.conftest import save_campaign

OWN, OTHER = "mu2e", "nova"
# The people under test: their role in mu2e (None: signed in, a member of nothing).
PEOPLE = {"none": None, "analysis": "analysis", "shifter": "production-shifter",
          "production": "production", "superuser": "superuser"}


@dataclass
class Place:
    """The ids of one experiment's things."""
    experiment: str
    experiment_id: int = 0
    campaign_id: int = 0
    campaign: str = ""
    stage_id: int = 0
    stage: str = "gen"
    submission_id: int = 0
    job_id: int = 0
    signature_id: int = 0
    job_type_id: int = 0
    job_type: str = ""
    login_setup_id: int = 0
    login_setup: str = ""
    membership_id: int = 0
    credential_of: dict = field(default_factory=dict)  # username -> credential id
    upload_of: dict = field(default_factory=dict)  # username -> the name of their own file
    token_of: dict = field(default_factory=dict)  # username -> token id
    watch_of: dict = field(default_factory=dict)  # username -> the id of their watch
    file_name: str = ""  # a catalogue file the job made


def build_place(name: str, boss_name: str, people: dict, uploads_dir: str) -> Place:
    experiment = members.find_or_create_experiment(name)
    boss = members.find_or_create_experimenter(boss_name)
    members.ensure_member(experiment, boss, "superuser")
    for username, role in people.items():
        user = members.find_or_create_experimenter(username)
        if role:
            members.ensure_member(experiment, user, role)
    victim = members.find_or_create_experimenter(f"{name}_victim")
    row = members.ensure_member(experiment, victim, "analysis")
    db.session.commit()
    campaign = save_campaign(experiment, boss, f"{name}_prod", "production")
    stage = next(s for s in campaign.stages if s.name == "gen")
    # Names of their own, so that one experiment's names never find the other's things.
    stage.job_type.name, stage.login_setup.name = f"{name}_job", f"{name}_login"
    cluster = f"{experiment.id}000.0@jobsub01.fnal.gov"
    submission = Submission(stage=stage, experiment_id=experiment.id, launcher_id=boss.id,
                            state="Running", batch_id=cluster, batch_ids=[cluster],
                            jobs_total=1, jobs_running=1)
    db.session.add(submission)
    db.session.flush()
    job = Job(submission_id=submission.id, batch_job_id=cluster, state="Running")
    db.session.add(job)
    signatures.ensure_starting_signatures(experiment)
    db.session.flush()
    # A file the job made, named for the experiment: another's name is not found here.
    file_name = f"{name}_out.art"
    EmbeddedCatalog(db.session, name).declare_file(file_name)
    db.session.flush()
    db.session.add(JobOutput(file_id=db.session.scalar(select(CatalogFile.id).where(
        CatalogFile.experiment == name, CatalogFile.name == file_name)), job_id=job.id,
        submission_id=submission.id))
    place = Place(
        experiment=name, file_name=file_name, experiment_id=experiment.id, campaign_id=campaign.id,
        campaign=campaign.name, stage_id=stage.id, submission_id=submission.id, job_id=job.id,
        signature_id=signatures.experiment_signatures(experiment)[0].id,
        job_type_id=stage.job_type_id, job_type=stage.job_type.name,
        login_setup_id=stage.login_setup_id,
        login_setup=stage.login_setup.name, membership_id=row.id,
    )
    quota = current_app.config["POMS_UPLOADS_QUOTA_BYTES"]
    for username in [boss_name, *people]:
        user = members.find_experimenter(username)
        role = user.role_in(experiment)
        if role is None:
            continue
        saved = save_credential(
            experiment, user, "analysis", bearer_token_file(30 * 86400, sub=username),
            acting_role=role, directory=uploads_dir, quota=quota)
        place.credential_of[username] = saved.row.id
        # A name no one else has, so asking for another person's file names theirs only.
        [own] = save_uploads(experiment, user, [(f"{username}.cfg", b"[global]\n")],
                             acting_role=role, directory=uploads_dir, quota=quota)
        place.upload_of[username] = own.row.name
        place.watch_of[username] = watches.watch(
            user, campaign, target=f"{username}@example.org", config=current_app.config).id
    for username in [boss_name, *people]:
        token, _secret = tokens.create_token(members.find_experimenter(username),
                                             f"{name} robot", 30)
        place.token_of[username] = token.id
    db.session.commit()
    return place


def build_world(uploads_dir: str) -> dict[str, Place]:
    world = {
        OWN: build_place(OWN, "boss", PEOPLE, uploads_dir),
        OTHER: build_place(OTHER, "nboss", {}, uploads_dir),
    }
    ucondb.create_folder(db.session, "poms", "f1", created_by="world")
    ucondb.store_version(db.session, "poms", "f1", "o1", b"x = 1\n", writer="world")
    db.session.commit()
    return world
