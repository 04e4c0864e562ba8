"""Events watchers may be told, each recorded once, and the messages they make.

    record(kind, experiment_id, key=..., text=..., campaign_id=..., stage_id=...)

writes the WatchEvent (nothing when `key` was recorded before), and for each watch that
wants it a WatchNotice: with a Delivery at once for an immediate watch, or waiting for the
watch's next digest (`due_digests`). The caller commits; the deliveries made are queued by
the watch pass (scan.py) or by whoever commits (`work.queue_deliveries`).
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import or_, select

from app.extensions import db
from app.models import Campaign, CampaignStage
from app.models.base import utcnow
from app.models.watching import Delivery, Watch, WatchEvent, WatchNotice

# kind -> what a person ticks
KINDS = {
    "submission_failed": "a submission Failed or LaunchFailed",
    "recovery_refused": "a recovery refused",
    "breaker_tripped": "the stage's circuit breaker tripped or was released",
    "finished": "a stage or the campaign finished",
    "fcl_upload_failed": "FCL uploads to UconDB failing",
    "credential_expiring": "a credential expiring within its warning time",
    "launches_held": "the experiment's launches held or released",
}
CADENCES = {"immediate": None, "hourly": timedelta(hours=1), "daily": timedelta(days=1)}
# Events about the whole experiment reach every watch in it that wants them.
EXPERIMENT_WIDE = ("launches_held",)


def watches_for(kind: str, experiment_id: int, campaign_id: int | None,
                stage_id: int | None) -> list[Watch]:
    query = select(Watch).where(Watch.experiment_id == experiment_id)
    if kind not in EXPERIMENT_WIDE:
        if campaign_id is None:
            return []
        scope = Watch.campaign_stage_id.is_(None)
        if stage_id is not None:
            scope = or_(scope, Watch.campaign_stage_id == stage_id)
        query = query.where(Watch.campaign_id == campaign_id, scope)
    return [w for w in db.session.scalars(query.order_by(Watch.id)) if kind in (w.events or [])]


def record(kind: str, experiment_id: int, *, key: str, text: str, link: str = "",
           campaign_id: int | None = None, stage_id: int | None = None,
           at=None) -> WatchEvent | None:
    """The event and its notices (caller commits); None when nobody wants it or `key` was
    recorded already."""
    if kind not in KINDS:
        raise ValueError(f"unknown event kind {kind!r} (known: {', '.join(KINDS)})")
    at = at or utcnow()
    if stage_id is not None and campaign_id is None:
        stage = db.session.get(CampaignStage, stage_id)
        campaign_id = stage.campaign_id if stage else None
    wanting = [w for w in watches_for(kind, experiment_id, campaign_id, stage_id)
               if w.created <= at]
    if not wanting:
        return None
    if db.session.scalar(select(WatchEvent.id).where(WatchEvent.key == key)) is not None:
        return None
    event = WatchEvent(key=key[:128], kind=kind, experiment_id=experiment_id,
                       campaign_id=campaign_id, campaign_stage_id=stage_id, text=text,
                       link=link, at=at)
    db.session.add(event)
    db.session.flush()
    for watch in wanting:
        notice = WatchNotice(watch_id=watch.id, event_id=event.id)
        if watch.cadence == "immediate":
            notice.delivery_id = _delivery(watch, [event]).id
        db.session.add(notice)
    db.session.flush()
    return event


def where(event: WatchEvent) -> str:
    """The campaign and stage an event is about, in words."""
    parts = []
    if event.campaign_id:
        campaign = db.session.get(Campaign, event.campaign_id)
        parts.append(f"campaign {campaign.name}" if campaign else "")
    if event.campaign_stage_id:
        stage = db.session.get(CampaignStage, event.campaign_stage_id)
        parts.append(f"stage {stage.name}" if stage else "")
    return ", ".join(p for p in parts if p)


def _line(event: WatchEvent) -> str:
    place = where(event)
    line = f"{event.at:%Y-%m-%d %H:%M} UTC  {place + ': ' if place else ''}{event.text}"
    return line + (f"\n    {event.link}" if event.link else "")


def _delivery(watch: Watch, events: list[WatchEvent]) -> Delivery:
    experiment = watch.campaign.experiment.name if watch.campaign else ""
    if len(events) == 1:
        subject = f"[POMS {experiment}] {events[0].text}"
        body = _line(events[0])
    else:
        subject = f"[POMS {experiment}] {watch.cadence} digest: {len(events)} events"
        body = "\n".join(_line(e) for e in events)
    watched = f"stage {watch.stage.name} of " if watch.stage else ""
    body += (f"\n\n(You watch {watched}campaign {watch.campaign.name}; "
             "change it on the campaign's page or with `poms unwatch`.)")
    row = Delivery(experiment_id=watch.experiment_id, experimenter_id=watch.experimenter_id,
                   watch_id=watch.id, channel=watch.channel, target=watch.target,
                   subject=subject[:255], body=body, events=len(events), state="pending")
    db.session.add(row)
    db.session.flush()
    return row


def due_digests(now=None) -> list[int]:
    """Make the digests whose time has come (caller commits); the new deliveries' ids."""
    now = now or utcnow()
    made = []
    for watch in db.session.scalars(select(Watch).where(Watch.cadence != "immediate")):
        period = CADENCES.get(watch.cadence)
        since = watch.last_digest_at or watch.created
        if period is None or now - since < period:
            continue
        notices = list(db.session.scalars(
            select(WatchNotice).where(WatchNotice.watch_id == watch.id,
                                      WatchNotice.delivery_id.is_(None))
            .order_by(WatchNotice.id)))
        watch.last_digest_at = now
        if not notices:
            continue
        delivery = _delivery(watch, [n.event for n in notices])
        for notice in notices:
            notice.delivery_id = delivery.id
        made.append(delivery.id)
    return made


def launches_held(experiment_id: int, *, held: bool, who: str, why: str = "",
                  at=None) -> WatchEvent | None:
    """The experiment's launches held or released (for whoever holds them; caller commits):
    every watch in the experiment that wants `launches_held` is told."""
    at = at or utcnow()
    text = (f"the experiment's launches are {'held' if held else 'released'} by {who}"
            + (f": {why}" if why else ""))
    return record("launches_held", experiment_id, at=at, text=text,
                  key=f"launch-hold:{experiment_id}:{'held' if held else 'released'}:"
                      f"{at.isoformat()}")
