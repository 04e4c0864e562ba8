"""Scheduled launches: a stage's cron expression (croniter) launches it when due.

Several schedulers may tick at once (one per worker); each due launch is taken by a guarded
UPDATE of its next time, so exactly one of them launches it.
"""
from __future__ import annotations

from datetime import datetime

from croniter import CroniterBadDateError, croniter
from sqlalchemy import select, update

from app.extensions import db
from app.launching import service
from app.launching.command import LaunchError
from app.launching.inputs import SplitsExhausted
from app.models import CampaignStage, StageLaunchSettings
from app.models.base import utcnow


class ScheduleError(ValueError):
    pass


def next_time(expression: str, after: datetime) -> datetime:
    if not croniter.is_valid(expression):
        raise ScheduleError(f"{expression!r} is not a cron expression (e.g. '0 */6 * * *')")
    try:
        return croniter(expression, after).get_next(datetime)
    except CroniterBadDateError:
        # Valid syntax that names no real day, such as the 30th of February.
        raise ScheduleError(f"{expression!r} never comes: no date matches it") from None


def set_schedule(stage: CampaignStage, expression: str, user, *, test: bool = False) -> None:
    settings = service.stage_settings(stage, create=True)
    expression = expression.strip()
    if not expression:
        settings.schedule = ""
        settings.schedule_next_at = None
        return
    settings.schedule_next_at = next_time(expression, utcnow())
    settings.schedule = expression
    settings.schedule_test = test
    settings.schedule_user_id = user.id


def due_launches(config, now: datetime | None = None) -> tuple[list[int], list[str]]:
    """Launch every stage whose schedule is due. (submission ids to enqueue, problems)."""
    now = now or utcnow()
    launched, problems = [], []
    due = db.session.scalars(
        select(StageLaunchSettings).where(
            StageLaunchSettings.schedule != "",
            StageLaunchSettings.schedule_next_at <= now,
        )
    ).all()
    for settings in due:
        old = settings.schedule_next_at
        following = next_time(settings.schedule, now)
        taken = db.session.execute(
            update(StageLaunchSettings)
            .where(StageLaunchSettings.campaign_stage_id == settings.campaign_stage_id,
                   StageLaunchSettings.schedule_next_at == old)
            .values(schedule_next_at=following, schedule_last_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount == 1
        if not taken:
            db.session.rollback()
            continue
        stage = db.session.get(CampaignStage, settings.campaign_stage_id)
        user = settings.schedule_user or stage.campaign.owner
        try:
            submission = service.request_launch(
                stage, user, test=settings.schedule_test, origin="schedule", config=config
            )
            db.session.commit()
            launched.append(submission.id)
        except SplitsExhausted as err:
            # As the original: a schedule whose splits ran out is cleared, unless the stage
            # says to keep it (default_clear_cronjob = False), and then only logged.
            if stage.default_clear_cronjob:
                settings.schedule, settings.schedule_next_at = "", None
                problems.append(f"stage {stage.name}: {err}; its schedule is cleared")
            else:
                problems.append(f"stage {stage.name}: {err}; its schedule is kept")
            db.session.commit()
        except LaunchError as err:
            db.session.commit()  # the schedule moved on; the problem is reported
            problems.append(f"stage {stage.name}: scheduled launch not made: {err}")
    return launched, problems
