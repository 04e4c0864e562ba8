"""What SQLite lets pass and PostgreSQL does not (or the other way round), pinned down.

These run on whichever database the `app` fixture has (`make test` and `make test-postgres`)
and must behave the same on both: searches ignore case and take % and _ literally, values
longer than their columns are refused with a reason rather than a server error (PostgreSQL
enforces VARCHAR lengths, SQLite does not), JSON comes back as it went in.
"""
from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from app.audit import AuditFilter, audit, search
from app.extensions import db
from app.models import Campaign, Experiment, Experimenter
from tests.fixtures.app import EXAMPLES, csrf_token, signed_in

TUTORIAL = EXAMPLES / "mu2e_reco_tutorial.ini"


@pytest.fixture
def alice(client, member):
    member("mu2e", "alice", "production")
    return signed_in(client, "alice")


def add_campaigns(*names: str) -> None:
    experiment = db.session.scalar(select(Experiment).where(Experiment.name == "mu2e"))
    owner = db.session.scalar(select(Experimenter).where(Experimenter.username == "alice"))
    for name in names:
        db.session.add(Campaign(experiment=experiment, owner=owner, name=name))
    db.session.commit()


def listed(client, q: str) -> list[str]:
    html = client.get("/e/mu2e/campaigns", query_string={"q": q, "state": "All"}).get_data(
        as_text=True
    )
    page = html[html.find('<table class="list">'):] if '<table class="list">' in html else ""
    return [name for name in ("Alpha_One", "beta_two", "gamma%x", "DELTA") if name in page]


def test_campaign_search_ignores_case_and_takes_wildcards_literally(alice):
    add_campaigns("Alpha_One", "beta_two", "gamma%x", "DELTA")
    assert listed(alice, "alpha") == ["Alpha_One"]
    assert listed(alice, "ALPHA_o") == ["Alpha_One"]
    assert listed(alice, "delta") == ["DELTA"]
    assert listed(alice, "_") == ["Alpha_One", "beta_two"]  # not "any one character"
    assert listed(alice, "%") == ["gamma%x"]  # not "anything"


def test_audit_subject_search_ignores_case(app, member):
    member("mu2e", "alice", "production")
    experiment = db.session.scalar(select(Experiment).where(Experiment.name == "mu2e"))
    for subject in ("Campaign Reco", "campaign reco_2", "other"):
        audit(experiment, None, "campaign edited", subject)
    db.session.commit()

    def subjects(wanted: str) -> list[str]:
        rows, _total = search(experiment, AuditFilter(subject=wanted), page=1, size=10)
        return sorted(row.subject for row in rows)

    assert subjects("RECO") == ["Campaign Reco", "campaign reco_2"]
    assert subjects("o_") == ["campaign reco_2"]
    assert subjects("%") == []


def upload(client, text: str):
    token = csrf_token(client, "/e/mu2e/campaigns/upload")
    return client.post(
        "/e/mu2e/campaigns/upload",
        data={"csrf_token": token, "ini_file": (io.BytesIO(text.encode()), "long.ini")},
        content_type="multipart/form-data",
    )


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("name = srsoleti_tutorial", "name = " + "c" * 300),
        ("name = srsoleti_tutorial", "name = srsoleti_tutorial\ntags = " + "t" * 100),
        ("vo_role=Analysis", "vo_role=" + "r" * 100),
    ],
    ids=["campaign name", "tag", "vo_role"],
)
def test_too_long_values_are_refused_with_a_reason(alice, old, new):
    text = TUTORIAL.read_text()
    assert old in text
    response = upload(alice, text.replace(old, new, 1))
    assert response.status_code == 422, response.status_code  # the problems, not a 500
    assert "characters long; at most" in response.get_data(as_text=True)
    assert db.session.scalar(select(Campaign)) is None


def test_json_columns_keep_what_was_written(app, member):
    member("mu2e", "alice", "production")
    add_campaigns("json")
    campaign = db.session.scalar(select(Campaign).where(Campaign.name == "json"))
    keywords = {"ñame": "välue", "nested": {"list": [1, 2.5, None, True, "x"]}, "": ""}
    campaign.keywords = keywords
    campaign.node_positions = {"stage one": {"x": -1, "y": 10**12}}
    db.session.commit()
    db.session.expire_all()
    again = db.session.scalar(select(Campaign).where(Campaign.name == "json"))
    assert again.keywords == keywords
    assert again.node_positions == {"stage one": {"x": -1, "y": 10**12}}


def test_the_importers_length_limits_are_the_columns_lengths():
    from app.campaigns.spec import MAX_LENGTHS
    from app.models import CampaignStage, CampaignTag, JobType, LoginSetup, StageDependency

    columns = {
        "experiment": Experiment.name,
        "campaign": Campaign.name,
        "tag": CampaignTag.tag,
        "stage": CampaignStage.name,
        "vo_role": CampaignStage.vo_role,
        "software_version": CampaignStage.software_version,
        "cs_split_type": CampaignStage.cs_split_type,
        "completion_type": CampaignStage.completion_type,
        "stage_type": CampaignStage.stage_type,
        "job_type": JobType.name,
        "login_setup": LoginSetup.name,
        "host": LoginSetup.host,
        "account": LoginSetup.account,
        "file_pattern": StageDependency.file_pattern,
    }
    assert MAX_LENGTHS == {key: column.type.length for key, column in columns.items()}
