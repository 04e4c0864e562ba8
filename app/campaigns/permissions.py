"""Who may change a campaign (and the job types and login setups campaigns share), upload a
campaign file, launch a campaign's stages and act on its submissions, as the pages and the
API both ask.

Plain Python: a refusal is the exception `Refused`, whose message is for the person; the
pages answer it with 403, the API with its JSON 403.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from app.auth import policy
from app.campaigns import login_setups as login_rules
from app.campaigns.spec import CampaignSpec, InvalidCampaign, Problem
from app.campaigns.store import redefined_shared
from app.models import JobType

if TYPE_CHECKING:
    from app.auth.session import Access
    from app.models import Campaign, LoginSetup


class Refused(Exception):
    """The person may not do this, in the role they act as."""


def may_edit(access: Access, campaign: Campaign) -> bool:
    return policy.may_edit_campaign(
        access.role, poms_role=campaign.poms_role, is_owner=access.owns(campaign)
    )


def may_launch(access: Access, campaign: Campaign) -> bool:
    """Launch its stages: tests, recoveries, schedules, a reset of the splits."""
    return policy.may_launch(access.role, poms_role=campaign.poms_role,
                             is_owner=access.owns(campaign))


def may_control(access: Access, campaign: Campaign) -> bool:
    """Kill, hold, release and approve its submissions, hold its stages."""
    return policy.may_control_submission(access.role, poms_role=campaign.poms_role,
                                         is_owner=access.owns(campaign))


def may_edit_shared(access: Access, row: JobType | LoginSetup) -> bool:
    """Change a job type or login setup: the experiment's campaigns share it."""
    return policy.may_edit_shared(access.role, is_creator=access.owns(row))


def login_setup_role(access: Access, asked: str | None) -> str:
    """Whose campaigns may launch with a login setup the person makes: as asked, else the
    role they act in (the original's creator_role). Production's account is production's
    to give: Refused otherwise; ValueError for a role that is neither."""
    if asked in (None, ""):
        return "production" if policy.at_least(access.role, "production") else "analysis"
    if asked not in login_rules.ROLES:
        raise ValueError(f"role: {' or '.join(login_rules.ROLES)}")
    if asked == "production" and not policy.at_least(access.role, "production"):
        raise Refused(f"acting as {access.role}, you may not make a production login setup")
    return asked


def require_edit(access: Access, campaign: Campaign) -> None:
    if not may_edit(access, campaign):
        raise Refused(f"acting as {access.role}, you may not change campaign {campaign.name}")


def check_experiment(spec: CampaignSpec, filename: str, access: Access) -> None:
    """The file is for the experiment the person works in (or names none): it becomes that
    experiment's. Otherwise InvalidCampaign, reported with the file's other problems."""
    if spec.experiment and spec.experiment != access.experiment.name:
        raise InvalidCampaign(
            [
                Problem(
                    filename, "campaign", "experiment",
                    f"the file is for experiment {spec.experiment!r}, but you are working in "
                    f"{access.experiment.name!r}; switch experiment or change the file",
                )
            ]
        )
    spec.experiment = access.experiment.name


def authorise_upload(access: Access, spec: CampaignSpec, existing: Campaign | None) -> None:
    """Refused unless the person may change `existing` (the campaign of that name, if any),
    may create campaigns of the file's poms_role, and may change every shared job type and
    login setup the file redefines."""
    if existing is not None:
        require_edit(access, existing)
    if not policy.may_create_campaign(access.role, spec.poms_role):
        raise Refused(f"acting as {access.role}, you may not create {spec.poms_role} campaigns")
    for row in redefined_shared(access.experiment, spec):
        # The same rule as editing it on its own page: it changes other people's campaigns.
        if not may_edit_shared(access, row):
            kind = "job type" if isinstance(row, JobType) else "login setup"
            raise Refused(
                f"acting as {access.role}, you may not change {kind} {row.name!r}: the "
                f"experiment's campaigns share it and someone else made it. Leave its "
                f"section out of the file to use it as it is, or give it another name")
