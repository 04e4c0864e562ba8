"""Who watches what: a person's watches of campaigns and stages (the original's
watch_campaign and stop_watching, with a choice of events, channel and cadence).

    watch(user, campaign, stage=None, events=[...], channel="email", target="", cadence=...)
    unwatch(user, campaign, stage=None, channel=None, target=None) -> how many removed
    watches_of(user, experiment)

One watch per (person, campaign, stage, channel, target): watching again changes it.
Anyone who may see the experiment may watch its campaigns; the caller checks that.
The caller commits.
"""
from __future__ import annotations

import re
from urllib.parse import urlsplit

from sqlalchemy import select

from app.config.watching import setting
from app.extensions import db
from app.models import Campaign, CampaignStage, Experiment, Experimenter
from app.models.watching import Watch
from app.watching import webhooks
from app.watching.events import CADENCES, KINDS

CHANNELS = ("email", "webhook")
_ADDRESS = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")


class WatchError(ValueError):
    """A watch that cannot be kept; the message names the field and why."""


def check(events, channel: str, target: str, cadence: str, *, user: Experimenter,
          config) -> tuple[list[str], str]:
    """(events, target) as kept, or WatchError."""
    events = list(dict.fromkeys(events or []))
    unknown = [e for e in events if e not in KINDS]
    if unknown:
        raise WatchError(f"events: {', '.join(map(str, unknown))} unknown "
                         f"(known: {', '.join(KINDS)})")
    if not events:
        raise WatchError("events: choose at least one")
    if channel not in CHANNELS:
        raise WatchError(f"channel: {channel!r} is not one of {', '.join(CHANNELS)}")
    if cadence not in CADENCES:
        raise WatchError(f"cadence: {cadence!r} is not one of {', '.join(CADENCES)}")
    target = (target or "").strip()
    if channel == "email":
        target = target or f"{user.username}@{setting(config, 'POMS_MAIL_DOMAIN')}"
        if not _ADDRESS.match(target) or len(target) > 254:
            raise WatchError(f"target: {target!r} is not one email address")
    else:
        parts = urlsplit(target)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise WatchError("target: a webhook needs an http:// or https:// URL, "
                             f"not {target!r}")
        if len(target) > 512:
            raise WatchError("target: the webhook URL is longer than 512 characters")
        refused = webhooks.refusal(target, config)
        if refused:
            raise WatchError(f"target: {refused}")
    return events, target


def find(user: Experimenter, campaign: Campaign, stage: CampaignStage | None,
         channel: str | None = None, target: str | None = None) -> list[Watch]:
    on_stage = (Watch.campaign_stage_id == stage.id if stage is not None
                else Watch.campaign_stage_id.is_(None))
    query = select(Watch).where(Watch.experimenter_id == user.id,
                                Watch.campaign_id == campaign.id, on_stage)
    if channel:
        query = query.where(Watch.channel == channel)
    if target:
        query = query.where(Watch.target == target)
    return list(db.session.scalars(query.order_by(Watch.id)))


def watch(user: Experimenter, campaign: Campaign, stage: CampaignStage | None = None, *,
          events=None, channel: str = "email", target: str = "",
          cadence: str = "immediate", config=None) -> Watch:
    if stage is not None and stage.campaign_id != campaign.id:
        raise WatchError(f"stage {stage.name} is not in campaign {campaign.name}")
    events, target = check(events if events is not None else list(KINDS), channel, target,
                           cadence, user=user, config=config or {})
    existing = find(user, campaign, stage, channel, target)
    row = existing[0] if existing else Watch(
        experiment_id=campaign.experiment_id, experimenter_id=user.id,
        campaign_id=campaign.id, campaign_stage_id=stage.id if stage else None,
        channel=channel, target=target)
    row.events, row.cadence = events, cadence
    db.session.add(row)
    db.session.flush()
    return row


def unwatch(user: Experimenter, campaign: Campaign, stage: CampaignStage | None = None,
            channel: str | None = None, target: str | None = None) -> int:
    rows = find(user, campaign, stage, channel, target)
    for row in rows:
        db.session.delete(row)
    db.session.flush()
    return len(rows)


def remove(user: Experimenter, watch_id: int) -> bool:
    row = db.session.get(Watch, watch_id)
    if row is None or row.experimenter_id != user.id:
        return False
    db.session.delete(row)
    db.session.flush()
    return True


def watches_of(user: Experimenter, experiment: Experiment) -> list[Watch]:
    return list(db.session.scalars(
        select(Watch).where(Watch.experimenter_id == user.id,
                            Watch.experiment_id == experiment.id).order_by(Watch.id)))


def describe(row: Watch) -> dict:
    return {"id": row.id, "campaign": row.campaign.name,
            "stage": row.stage.name if row.stage else None, "events": list(row.events),
            "channel": row.channel, "target": row.target, "cadence": row.cadence,
            "created": row.created.isoformat() if row.created else None}
