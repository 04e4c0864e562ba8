"""What a change to a campaign does to its launches, said before it is saved: for each
stage, the dry run's script before and after (and their unified diff), its scheduled
launches, and its submissions still under way (recoveries among them).

The change is made for real inside a savepoint (the same code that will save it:
store.save_campaign through the caller's `apply`), the dry runs read the campaign as it
would be, and the savepoint is rolled back: what is shown is exactly what the next launch
would run, and nothing is written.
"""
from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import select

from app import states
from app.campaigns import store
from app.campaigns.spec import InvalidCampaign
from app.extensions import db
from app.launching.command import LaunchError
from app.launching.service import preview
from app.models import Campaign, CampaignStage, Experimenter, StageLaunchSettings, Submission

# Submissions a change can still reach: their jobs run, wait, or wait for approval.
UNDER_WAY = (*states.ACTIVE, states.AWAITING_APPROVAL)


@dataclass
class UnderWay:
    id: int
    state: str
    recovery: bool  # a recovery of an earlier submission (its jobs re-run files)


@dataclass
class StageImpact:
    stage: str  # its name after the change (before, when it is removed)
    status: str  # "changes", "same", "added", "removed"
    before: str = ""  # the next launch's script (or why it cannot launch)
    after: str = ""
    script_diff: str = ""  # unified diff of before and after ("" when the same)
    renamed_from: str = ""
    schedule: str = ""  # the cron expression of its scheduled launches ("" none)
    under_way: list[UnderWay] = field(default_factory=list)

    @property
    def recoveries(self) -> list[UnderWay]:
        return [s for s in self.under_way if s.recovery]


@dataclass
class Impact:
    stages: list[StageImpact] = field(default_factory=list)
    error: str = ""  # the change could not be made (saving would refuse it the same way)

    @property
    def touched(self) -> list[StageImpact]:
        """The stages whose next launch changes, that appear or go."""
        return [s for s in self.stages if s.status != "same"]

    @property
    def scheduled(self) -> list[StageImpact]:
        return [s for s in self.touched if s.schedule]

    @property
    def under_way(self) -> list[StageImpact]:
        return [s for s in self.touched if s.under_way]


def _script(stage: CampaignStage, user: Experimenter, config) -> str:
    try:
        return preview(stage, user, test=False, config=config).script
    except (LaunchError, ValueError) as err:
        return f"(it cannot launch: {err})"


def _scripts(campaign: Campaign | None, user: Experimenter, config) -> dict[int, tuple]:
    if campaign is None:
        return {}
    return {s.id: (s.name, _script(s, user, config)) for s in campaign.stages}


def _unified(before: str, after: str, name: str) -> str:
    return "".join(difflib.unified_diff(
        before.splitlines(keepends=True), after.splitlines(keepends=True),
        fromfile=f"{name} (now)", tofile=f"{name} (after the change)"))


def _under_way(stage_ids: list[int]) -> dict[int, list[UnderWay]]:
    found: dict[int, list[UnderWay]] = {}
    if not stage_ids:
        return found
    rows = db.session.execute(
        select(Submission.campaign_stage_id, Submission.id, Submission.state,
               Submission.recovery_of_id)
        .where(Submission.campaign_stage_id.in_(stage_ids), Submission.state.in_(UNDER_WAY))
        .order_by(Submission.id))
    for stage_id, sub_id, state, recovery_of in rows:
        found.setdefault(stage_id, []).append(UnderWay(sub_id, state, recovery_of is not None))
    return found


def _schedules(stage_ids: list[int]) -> dict[int, str]:
    if not stage_ids:
        return {}
    return dict(db.session.execute(
        select(StageLaunchSettings.campaign_stage_id, StageLaunchSettings.schedule)
        .where(StageLaunchSettings.campaign_stage_id.in_(stage_ids),
               StageLaunchSettings.schedule != "")).all())


def impact(campaign: Campaign | None, apply: Callable[[], Campaign], user: Experimenter,
           config, changes: list) -> Impact:
    """What `apply` (a save of the change, store.save_campaign) does to the launches of
    `campaign` (None: a new campaign), whose `changes` (diff_campaigns') the caller has.
    Writes nothing: `apply` runs in a savepoint that is rolled back, and not at all when
    the campaign exists and nothing changes (a dry run then sends no write at all)."""
    if campaign is not None and not changes:
        return Impact()
    before = _scripts(campaign, user, config)
    savepoint = db.session.begin_nested()
    try:
        after = _scripts(apply(), user, config)
    except (InvalidCampaign, store.CampaignInUse, ValueError) as err:
        return Impact(error=str(err))
    finally:
        savepoint.rollback()
    ids = list(before)
    schedules, under_way = _schedules(ids), _under_way(ids)
    stages = []
    for stage_id, (name, old) in before.items():
        if stage_id not in after:
            stages.append(StageImpact(name, "removed", before=old,
                                      schedule=schedules.get(stage_id, ""),
                                      under_way=under_way.get(stage_id, [])))
            continue
        new_name, new = after[stage_id]
        status = "same" if new == old and new_name == name else "changes"
        stages.append(StageImpact(
            new_name, status, before=old, after=new,
            script_diff=_unified(old, new, new_name) if new != old else "",
            renamed_from=name if new_name != name else "",
            schedule=schedules.get(stage_id, ""), under_way=under_way.get(stage_id, [])))
    stages += [StageImpact(name, "added", after=new, script_diff=_unified("", new, name))
               for stage_id, (name, new) in after.items() if stage_id not in before]
    return Impact(stages)
