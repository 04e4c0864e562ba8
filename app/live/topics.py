"""The topics a page may follow: each names one of its experiment's things, or refuses."""
from __future__ import annotations

import re

from sqlalchemy import func, select

from app.extensions import db
from app.models import Campaign, CampaignStage, Submission

MAX_TOPICS = 32
_TOPIC = re.compile(r"^(experiment|campaign-(\d+)|stage-(\d+)|submission-(\d+)(-state)?)$")


class TopicRefused(Exception):
    """A topic that is malformed (`bad`) or not of this experiment (`foreign`)."""

    def __init__(self, message: str, foreign: bool = False):
        super().__init__(message)
        self.foreign = foreign


def checked(experiment_id: int, asked: list[str]) -> set[str]:
    """The topics asked for, each checked to be of this experiment (one query per kind)."""
    if not asked:
        raise TopicRefused("name at least one topic (topic=experiment, campaign-<id>, "
                           "stage-<id>, submission-<id>, submission-<id>-state)")
    if len(asked) > MAX_TOPICS:
        raise TopicRefused(f"at most {MAX_TOPICS} topics per page, not {len(asked)}")
    ids: dict[str, set[int]] = {"campaign": set(), "stage": set(), "submission": set()}
    for topic in asked:
        match = _TOPIC.match(topic)
        if match is None:
            raise TopicRefused(f"topic {topic!r} is not one of experiment, campaign-<id>, "
                               "stage-<id>, submission-<id>, submission-<id>-state")
        campaign, stage, submission = match.group(2, 3, 4)
        if campaign:
            ids["campaign"].add(int(campaign))
        elif stage:
            ids["stage"].add(int(stage))
        elif submission:
            ids["submission"].add(int(submission))
    queries = {
        "campaign": select(func.count()).select_from(Campaign).where(
            Campaign.id.in_(ids["campaign"]), Campaign.experiment_id == experiment_id),
        "stage": select(func.count()).select_from(CampaignStage)
        .join(Campaign, Campaign.id == CampaignStage.campaign_id)
        .where(CampaignStage.id.in_(ids["stage"]), Campaign.experiment_id == experiment_id),
        "submission": select(func.count()).select_from(Submission)
        .join(CampaignStage, CampaignStage.id == Submission.campaign_stage_id)
        .join(Campaign, Campaign.id == CampaignStage.campaign_id)
        .where(Submission.id.in_(ids["submission"]), Campaign.experiment_id == experiment_id),
    }
    for kind, wanted in ids.items():
        if wanted and db.session.scalar(queries[kind]) != len(wanted):
            raise TopicRefused(f"no such {kind} in this experiment", foreign=True)
    return set(asked)
