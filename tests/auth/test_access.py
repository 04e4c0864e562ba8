"""Who may do what, over the real views: every role against every kind of action.

One table: each action is a real request through the test client (signed in by the dev
login), each row says which of the people may do it; everyone else must get 403 and the
thing must not have happened. Launch, kill, hold and release have no views yet: their
rules are checked on the policy table itself.
"""
from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import select

from app.auth import members, policy
from app.extensions import db
from app.models import Campaign, CampaignStage
from tests.auth.conftest import campaign_ini, save_campaign, upload
from tests.fixtures.app import csrf_token, signed_in

EXP = "mu2e"
# The people: four members with the four roles, a member of another experiment only, and a
# POMS administrator who is in no experiment.
PEOPLE = {
    "ana": "analysis",
    "shift": "production-shifter",
    "prod": "production",
    "su": "superuser",
    "outsider": None,
    "root": None,
}
EVERY_MEMBER = {"ana", "shift", "prod", "su"}


@dataclass
class World:
    ids: dict


@pytest.fixture
def world(app, member):
    app.config["POMS_ADMINS"] = ["root@FNAL.GOV"]
    for username, role in PEOPLE.items():
        if role:
            member(EXP, username, role)
    member("nova", "outsider", "superuser")
    members.find_or_create_experimenter("root")
    member(EXP, "owner", "analysis")
    member(EXP, "boss", "superuser")  # keeps a superuser when `su` is tested on itself
    db.session.commit()
    exp = members.find_experiment(EXP)
    owner = members.find_experimenter("owner")
    ids = {
        "others": save_campaign(exp, owner, "others_analysis").id,
        "production": save_campaign(exp, members.find_experimenter("boss"), "prod_campaign",
                                    "production").id,
    }
    for username, role in PEOPLE.items():
        if role:
            ids[f"own:{username}"] = save_campaign(
                exp, members.find_experimenter(username), f"own_{username}"
            ).id
    return World(ids)


def stage_of(campaign_id: int) -> int:
    return db.session.scalar(
        select(CampaignStage.id).where(CampaignStage.campaign_id == campaign_id)
    )


def own_or_others(world: World, who: str) -> int:
    return world.ids.get(f"own:{who}", world.ids["others"])


def post(client, url: str, data: dict | None = None, token_page: str = "/"):
    token = csrf_token(client, f"/e/{EXP}/campaigns" if token_page == "/" else token_page)
    return client.post(url, data={"csrf_token": token, **(data or {})})


def edit_stage(client, world, who, campaign_key):
    campaign_id = own_or_others(world, who) if campaign_key == "own" else world.ids[campaign_key]
    return post(client, f"/e/{EXP}/stage/{stage_of(campaign_id)}/field/completion_pct",
                {"value": "90"})


def csrf_from_any_page(client) -> str:
    # Non-members have no experiment page to take a token from; the login page has one.
    return csrf_token(client, "/login")


def plain_post(client, url, data=None):
    return client.post(url, data={"csrf_token": csrf_from_any_page(client), **(data or {})})


ACTIONS = {
    "view campaign list": (
        lambda c, w, who: c.get(f"/e/{EXP}/campaigns"), EVERY_MEMBER),
    "upload analysis campaign": (
        lambda c, w, who: upload(c, EXP, campaign_ini(f"new_{who}")), EVERY_MEMBER),
    "upload production campaign": (
        lambda c, w, who: upload(c, EXP, campaign_ini(f"newprod_{who}", "production")),
        {"prod", "su"}),
    "edit a stage of one's own analysis campaign": (
        lambda c, w, who: edit_stage(c, w, who, "own"), EVERY_MEMBER),
    "edit a stage of someone else's analysis campaign": (
        lambda c, w, who: edit_stage(c, w, who, "others"), {"su"}),
    "edit a stage of a production campaign": (
        lambda c, w, who: edit_stage(c, w, who, "production"), {"prod", "su"}),
    "delete one's own analysis campaign": (
        lambda c, w, who: plain_post(c, f"/e/{EXP}/campaign/{own_or_others(w, who)}/delete"),
        EVERY_MEMBER),
    "delete someone else's analysis campaign": (
        lambda c, w, who: plain_post(c, f"/e/{EXP}/campaign/{w.ids['others']}/delete"),
        {"su"}),
    "delete a production campaign": (
        lambda c, w, who: plain_post(c, f"/e/{EXP}/campaign/{w.ids['production']}/delete"),
        {"prod", "su"}),
    "clone an analysis campaign": (
        lambda c, w, who: plain_post(c, f"/e/{EXP}/campaign/{w.ids['others']}/clone",
                                     {"new_name": f"copy_{who}"}),
        EVERY_MEMBER),
    "clone a production campaign": (
        lambda c, w, who: plain_post(c, f"/e/{EXP}/campaign/{w.ids['production']}/clone",
                                     {"new_name": f"copyprod_{who}"}),
        {"prod", "su"}),
    "see the members": (
        lambda c, w, who: c.get(f"/e/{EXP}/members"), {"su", "root"}),
    "add a member": (
        lambda c, w, who: plain_post(c, f"/e/{EXP}/members",
                                     {"principal": f"new_{who}@FNAL.GOV", "role": "analysis"}),
        {"su", "root"}),
    "read the audit log": (
        lambda c, w, who: c.get(f"/e/{EXP}/audit"), {"su", "root"}),
    "see the experiments": (
        lambda c, w, who: c.get("/admin/experiments"), {"root"}),
    "create an experiment": (
        lambda c, w, who: plain_post(c, "/admin/experiments", {"name": f"exp-{who}"}),
        {"root"}),
    "deactivate an experiment": (
        lambda c, w, who: plain_post(
            c, f"/admin/experiments/{members.find_experiment('nova').id}/active",
            {"active": "0"}),
        {"root"}),
    "read every experiment's audit log": (
        lambda c, w, who: c.get("/admin/audit"), {"root"}),
}

CASES = [
    pytest.param(action, who, who in allowed, id=f"{who}: {action}")
    for action, (_do, allowed) in ACTIONS.items()
    for who in PEOPLE
]


@pytest.mark.parametrize(("action", "who", "allowed"), CASES)
def test_every_role_against_every_action(client, world, action, who, allowed):
    do, _ = ACTIONS[action]
    signed_in(client, who)
    response = do(client, world, who)
    if allowed:
        assert response.status_code in (200, 204, 302), (
            f"{who} should be able to {action}: {response.status_code} "
            f"{response.get_data(as_text=True)[:300]}"
        )
        assert "Not done" not in response.get_data(as_text=True)
    else:
        assert response.status_code == 403, (
            f"{who} should not be able to {action}: {response.status_code}"
        )


def test_refused_changes_leave_no_trace(client, world):
    signed_in(client, "ana")
    others = world.ids["others"]
    production = world.ids["production"]
    before = db.session.get(Campaign, production).stages[0].completion_pct
    assert plain_post(client, f"/e/{EXP}/campaign/{others}/delete").status_code == 403
    assert edit_stage(client, world, "ana", "production").status_code == 403
    assert upload(client, EXP, campaign_ini("sneaky", "production")).status_code == 403
    db.session.expire_all()
    assert db.session.get(Campaign, others) is not None
    assert db.session.get(Campaign, production).stages[0].completion_pct == before
    assert db.session.scalar(select(Campaign).where(Campaign.name == "sneaky")) is None


def test_acting_as_a_lower_role_takes_the_lower_rights(client, world):
    """The header switcher: a superuser acting as analysis is an analysis user."""
    signed_in(client, "su")
    token = csrf_token(client, f"/e/{EXP}/campaigns")
    switched = client.post("/switch", data={"csrf_token": token, "experiment": EXP,
                                            "role": "analysis"})
    assert switched.status_code == 302
    assert client.get(f"/e/{EXP}/members").status_code == 403
    assert edit_stage(client, world, "su", "production").status_code == 403
    assert upload(client, EXP, campaign_ini("su_prod", "production")).status_code == 403
    # and back up again: never above one's own role
    client.post("/switch", data={"csrf_token": token, "experiment": EXP, "role": "superuser"})
    assert client.get(f"/e/{EXP}/members").status_code == 200


def test_switching_above_ones_own_role_is_refused(client, world):
    signed_in(client, "ana")
    token = csrf_token(client, f"/e/{EXP}/campaigns")
    client.post("/switch", data={"csrf_token": token, "experiment": EXP, "role": "superuser"})
    assert client.get(f"/e/{EXP}/members").status_code == 403
    assert upload(client, EXP, campaign_ini("ana_prod", "production")).status_code == 403


# --- launch, kill, hold, release: the policy table (no views yet) -------------------------

LAUNCH_TABLE = [
    # role, campaign kind, own campaign?, may launch/kill/hold/release
    ("analysis", "analysis", True, True),
    ("analysis", "analysis", False, False),
    ("analysis", "production", False, False),
    ("production-shifter", "analysis", True, True),
    ("production-shifter", "analysis", False, False),
    ("production-shifter", "production", False, True),
    ("production", "analysis", False, False),
    ("production", "production", False, True),
    ("superuser", "analysis", False, True),
    ("superuser", "production", False, True),
    (None, "analysis", True, False),
    (None, "production", False, False),
]


@pytest.mark.parametrize(("role", "kind", "own", "may"), LAUNCH_TABLE)
def test_launch_kill_hold_release_policy(role, kind, own, may):
    assert policy.may_launch(role, poms_role=kind, is_owner=own) is may
    assert policy.may_control_submission(role, poms_role=kind, is_owner=own) is may


@pytest.mark.parametrize("role", policy.ROLES)
def test_shifters_launch_production_work_but_do_not_edit_it(role):
    edits = policy.may_edit_campaign(role, poms_role="production", is_owner=False)
    launches = policy.may_launch(role, poms_role="production", is_owner=False)
    assert launches is (policy.rank(role) >= policy.rank("production-shifter"))
    assert edits is (role in ("production", "superuser"))


def test_admins_are_named_by_principal_or_user_name():
    assert policy.is_admin("root", ["root@FNAL.GOV"])
    assert policy.is_admin("root", ["alice", "root"])
    assert not policy.is_admin("roo", ["root@FNAL.GOV"])
    assert not policy.is_admin("", ["@FNAL.GOV"])
    assert not policy.is_admin(None, ["root"])
    assert policy.may_manage_experiments(is_admin=True)
    assert not policy.may_manage_experiments(is_admin=False)


@pytest.mark.parametrize(
    ("role", "credential_role", "may"),
    [
        ("analysis", "analysis", True), ("analysis", "production", False),
        ("production-shifter", "production", True), ("production", "production", True),
        ("superuser", "production", True), (None, "analysis", False),
        ("superuser", "root", False),
    ],
)
def test_who_may_hold_which_credential(role, credential_role, may):
    assert policy.may_hold_credential(role, credential_role) is may


def test_the_experiment_acted_in_is_remembered_without_rewriting_the_session(client, world):
    """The pages outside an experiment open on the one last acted in; the session cookie is
    written when that changes, not again by every page and live fetch in it."""
    member_of_two = "prod"
    members.ensure_member(members.find_or_create_experiment("nova"),
                          members.find_experimenter(member_of_two), "analysis")
    db.session.commit()
    signed_in(client, member_of_two)
    first = client.get(f"/e/{EXP}/campaigns")
    assert first.status_code == 200
    again = client.get(f"/e/{EXP}/campaigns")
    assert again.status_code == 200 and "Set-Cookie" not in again.headers
    moved = client.get("/e/nova/campaigns")
    assert moved.status_code == 200 and "session=" in moved.headers.get("Set-Cookie", "")
    assert client.get("/").headers.get("Location", "").startswith("/e/nova/")
