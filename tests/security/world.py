"""Two experiments full of things, for the role matrix (tests/security/test_role_matrix.py).

In each experiment (mu2e, where the people under test are members; nova, where none is):
a superuser `boss` who owns a production campaign (stages gen, reco, with its job type and
login setup), a submission of gen with one job, the starting failure signatures, a member
`victim` (for the member pages), and a UconDB folder. In mu2e each person under test holds
a credential and an API token of their own.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from app.credentials.store import save_credential

from app.auth import members, tokens
from app.extensions import db
from app.logs import store as signatures
from app.models import Job, Submission
from app.ucondb import store as ucondb
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
    token_of: dict = field(default_factory=dict)  # username -> token id


def build_place(name: str, boss_name: str, people: dict, credentials_dir: str) -> Place:
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
    place = Place(
        experiment=name, experiment_id=experiment.id, campaign_id=campaign.id,
        campaign=campaign.name, stage_id=stage.id, submission_id=submission.id, job_id=job.id,
        signature_id=signatures.experiment_signatures(experiment)[0].id,
        job_type_id=stage.job_type_id, job_type=stage.job_type.name,
        login_setup_id=stage.login_setup_id,
        login_setup=stage.login_setup.name, membership_id=row.id,
    )
    for username in [boss_name, *people]:
        user = members.find_experimenter(username)
        if user.role_in(experiment) is None:
            continue
        credential, _parsed = save_credential(
            experiment, user, "analysis", bearer_token_file(30 * 86400, sub=username),
            acting_role=user.role_in(experiment), directory=credentials_dir)
        place.credential_of[username] = credential.id
    for username in [boss_name, *people]:
        token, _secret = tokens.create_token(members.find_experimenter(username),
                                             f"{name} robot", 30)
        place.token_of[username] = token.id
    db.session.commit()
    return place


def build_world(credentials_dir: str) -> dict[str, Place]:
    world = {
        OWN: build_place(OWN, "boss", PEOPLE, credentials_dir),
        OTHER: build_place(OTHER, "nboss", {}, credentials_dir),
    }
    ucondb.create_folder(db.session, "poms", "f1", created_by="world")
    ucondb.store_version(db.session, "poms", "f1", "o1", b"x = 1\n", writer="world")
    db.session.commit()
    return world
