"""Every version of a campaign: each save (upload, editor, page field, API, `poms
import-ini`, rollback, clone) records the campaign's complete INI text with who, when and
why, in the save's own transaction (store.save_campaign calls record). A version is the
text export_ini writes, which parse_ini reads back to the same campaign, so any version
can be shown, compared with another (diff_campaigns, as the upload's preview), downloaded,
and put back through the upload's preview and save.

Like the store, nothing here commits: the caller's action is one transaction.
"""
from __future__ import annotations

from sqlalchemy import func, select

from app.campaigns.diff import Change, diff_campaigns
from app.campaigns.ini import export_ini, parse_ini
from app.campaigns.spec import CampaignSpec
from app.extensions import db
from app.models import Campaign, CampaignVersion, Experimenter

SOURCES = ("upload", "editor", "page", "api", "cli", "rollback", "clone", "found")
# The most characters of a reason kept (a sentence or two, not a file).
REASON_LENGTH = 2000
# A version holds every stage the campaign had: reading one back is never refused for size.
_NO_STAGE_LIMIT = 10**6
FOUND = ("as found: the campaign before its versions were kept, or after a job type or "
         "login setup it uses was changed on its own page")


class NoVersion(LookupError):
    """The campaign has no version of that number."""


def latest(campaign: Campaign) -> CampaignVersion | None:
    return db.session.scalar(
        select(CampaignVersion).where(CampaignVersion.campaign_id == campaign.id)
        .order_by(CampaignVersion.number.desc()).limit(1))


def _add(campaign: Campaign, text: str, who: Experimenter | None, source: str,
         reason: str) -> CampaignVersion:
    number = db.session.scalar(select(func.coalesce(func.max(CampaignVersion.number), 0))
                               .where(CampaignVersion.campaign_id == campaign.id)) + 1
    row = CampaignVersion(campaign_id=campaign.id, number=number, ini_text=text,
                          experimenter=who, source=source,
                          reason=(reason or "").strip()[:REASON_LENGTH])
    db.session.add(row)
    db.session.flush()
    return row


def catch_up(campaign: Campaign, current: CampaignSpec) -> CampaignVersion | None:
    """Record the campaign as it is (`current`, store.spec_from_campaign) when its latest
    version says otherwise: a campaign stored before versions were kept, or one whose
    shared job type or login setup was changed on the definitions' pages. The new version
    (or None: nothing to record)."""
    text = export_ini(current)
    last = latest(campaign)
    if last is not None and last.ini_text == text:
        return None
    return _add(campaign, text, None, "found", FOUND)


def record(campaign: Campaign, before: CampaignSpec | None, after: CampaignSpec,
           who: Experimenter | None, source: str, reason: str) -> CampaignVersion:
    """The version a save makes (store.save_campaign, once the change is flushed): first
    the campaign as it was, if no version says so yet, then as it is now."""
    if before is not None:
        catch_up(campaign, before)
    return _add(campaign, export_ini(after), who, source or "page", reason)


def history(campaign: Campaign) -> list[CampaignVersion]:
    """Newest first."""
    return list(db.session.scalars(
        select(CampaignVersion).where(CampaignVersion.campaign_id == campaign.id)
        .order_by(CampaignVersion.number.desc())))


def version(campaign: Campaign, number: int) -> CampaignVersion:
    row = db.session.scalar(select(CampaignVersion).where(
        CampaignVersion.campaign_id == campaign.id, CampaignVersion.number == number))
    if row is None:
        raise NoVersion(f"campaign {campaign.name!r} has no version {number}")
    return row


def spec_of(row: CampaignVersion) -> CampaignSpec:
    """The campaign as the version holds it (its own text defines every job type and
    login setup it uses, so it is read with no experiment)."""
    spec, _warnings = parse_ini(row.ini_text, f"version {row.number}",
                                max_stages=_NO_STAGE_LIMIT)
    return spec


def diff(older: CampaignVersion, newer: CampaignVersion) -> list[Change]:
    """What changed from `older` to `newer`, field by field, as the upload's preview says
    it."""
    return diff_campaigns(spec_of(older), spec_of(newer))


def rollback_reason(number: int, reason: str = "") -> str:
    """What a rollback's version says of itself: the version it puts back, and why."""
    reason = (reason or "").strip()
    return f"rolled back to version {number}" + (f": {reason}" if reason else "")


def filename(campaign: Campaign, row: CampaignVersion) -> str:
    safe = "".join(c if c.isalnum() or c in "_.-" else "_" for c in campaign.name)
    return f"{safe}.v{row.number}.ini"


def who_of(row: CampaignVersion) -> str:
    return row.experimenter.username if row.experimenter is not None else "(POMS)"
