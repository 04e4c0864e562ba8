"""Campaigns, their stages and dependencies, and the job types and login setups they use.

Job types and login setups belong to the experiment and are shared by name across its
campaigns, as in the original POMS.
"""
from __future__ import annotations

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import utcnow


class JobType(db.Model):
    __table_args__ = (UniqueConstraint("experiment_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    experiment_id: Mapped[int] = mapped_column(ForeignKey("experiment.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    launch_script: Mapped[str] = mapped_column(Text, default="")
    parameters = mapped_column(JSON, nullable=False, default=list)
    output_file_patterns: Mapped[str] = mapped_column(Text, default="")
    recoveries = mapped_column(JSON, nullable=False, default=list)
    creator_id: Mapped[int | None] = mapped_column(ForeignKey("experimenter.id"))
    created = mapped_column(db.DateTime, default=utcnow, nullable=False)
    updated = mapped_column(db.DateTime, default=utcnow, onupdate=utcnow, nullable=False)

    experiment = relationship("Experiment")
    creator = relationship("Experimenter")


class LoginSetup(db.Model):
    __table_args__ = (UniqueConstraint("experiment_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    experiment_id: Mapped[int] = mapped_column(ForeignKey("experiment.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    host: Mapped[str] = mapped_column(String(255), default="")
    account: Mapped[str] = mapped_column(String(255), default="")
    setup: Mapped[str] = mapped_column(Text, default="")
    # The role whose campaigns may launch with it: "analysis" or "production"
    # (app/campaigns/login_setups.py). Not in INI files: an upload gives a new login setup
    # the uploading campaign's role, as the original's creator_role.
    role: Mapped[str] = mapped_column(String(16), default="analysis", server_default="analysis")
    creator_id: Mapped[int | None] = mapped_column(ForeignKey("experimenter.id"))
    created = mapped_column(db.DateTime, default=utcnow, nullable=False)
    updated = mapped_column(db.DateTime, default=utcnow, onupdate=utcnow, nullable=False)

    experiment = relationship("Experiment")
    creator = relationship("Experimenter")


class Campaign(db.Model):
    __table_args__ = (UniqueConstraint("experiment_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    experiment_id: Mapped[int] = mapped_column(ForeignKey("experiment.id"), index=True)
    name: Mapped[str] = mapped_column(String(255), index=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("experimenter.id"), index=True)
    poms_role: Mapped[str] = mapped_column(String(32), default="analysis")
    state: Mapped[str] = mapped_column(String(16), default="Active", index=True)
    keywords = mapped_column(JSON, nullable=False, default=dict)
    defaults = mapped_column(JSON, nullable=False, default=dict)
    node_positions = mapped_column(JSON, nullable=False, default=dict)
    created = mapped_column(db.DateTime, default=utcnow, nullable=False)
    updated = mapped_column(db.DateTime, default=utcnow, onupdate=utcnow, nullable=False)

    experiment = relationship("Experiment")
    owner = relationship("Experimenter")
    stages: Mapped[list[CampaignStage]] = relationship(
        back_populates="campaign",
        order_by="CampaignStage.position",
        cascade="all, delete-orphan",
    )
    tag_rows: Mapped[list[CampaignTag]] = relationship(
        cascade="all, delete-orphan", order_by="CampaignTag.tag"
    )

    @property
    def tags(self) -> list[str]:
        # Sorted here, not by the database, whose collation may order them otherwise.
        return sorted(t.tag for t in self.tag_rows)


class CampaignTag(db.Model):
    __table_args__ = (UniqueConstraint("campaign_id", "tag"), Index("ix_campaign_tag_tag", "tag"))

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaign.id", ondelete="CASCADE"), index=True
    )
    tag: Mapped[str] = mapped_column(String(64))


class CampaignStage(db.Model):
    __table_args__ = (UniqueConstraint("campaign_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaign.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(255))
    position: Mapped[int] = mapped_column(default=0)  # order in campaign_stage_list
    vo_role: Mapped[str] = mapped_column(String(64), default="")
    software_version: Mapped[str] = mapped_column(String(255), default="")
    dataset_or_split_data: Mapped[str] = mapped_column(Text, default="")
    cs_split_type: Mapped[str] = mapped_column(String(255), default="")
    # What a test launch splits by instead of cs_split_type, when set (the original's
    # campaign_stages.test_split_type). Not in the INI file: the original neither imports
    # nor exports it; it is set on the stage page.
    test_split_type: Mapped[str] = mapped_column(String(255), default="", server_default="")
    completion_type: Mapped[str] = mapped_column(String(16), default="complete")
    completion_pct: Mapped[int] = mapped_column(default=95)
    param_overrides = mapped_column(JSON, nullable=False, default=list)
    test_param_overrides = mapped_column(JSON, nullable=False, default=list)
    merge_overrides: Mapped[bool] = mapped_column(default=False)
    stage_type: Mapped[str] = mapped_column(String(32), default="regular")
    output_ancestor_depth: Mapped[int] = mapped_column(default=1)
    default_clear_cronjob: Mapped[bool] = mapped_column(default=True)
    state: Mapped[str] = mapped_column(String(16), default="")
    job_type_id: Mapped[int] = mapped_column(ForeignKey("job_type.id"), index=True)
    login_setup_id: Mapped[int] = mapped_column(ForeignKey("login_setup.id"), index=True)
    created = mapped_column(db.DateTime, default=utcnow, nullable=False)
    updated = mapped_column(db.DateTime, default=utcnow, onupdate=utcnow, nullable=False)

    campaign: Mapped[Campaign] = relationship(back_populates="stages")
    job_type: Mapped[JobType] = relationship()
    login_setup: Mapped[LoginSetup] = relationship()
    parent_links: Mapped[list[StageDependency]] = relationship(
        foreign_keys="StageDependency.child_id",
        back_populates="child",
        order_by="StageDependency.position",
        cascade="all, delete-orphan",
    )
    child_links: Mapped[list[StageDependency]] = relationship(
        foreign_keys="StageDependency.parent_id",
        back_populates="parent",
        cascade="all, delete-orphan",
    )


class StageDependency(db.Model):
    """Stage `child` consumes the outputs of `parent` whose names match file_pattern."""

    __table_args__ = (UniqueConstraint("child_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(
        ForeignKey("campaign_stage.id", ondelete="CASCADE"), index=True
    )
    parent_id: Mapped[int] = mapped_column(
        ForeignKey("campaign_stage.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column()  # the N of campaign_stage_N / file_pattern_N
    file_pattern: Mapped[str] = mapped_column(String(512))

    child: Mapped[CampaignStage] = relationship(
        foreign_keys=[child_id], back_populates="parent_links"
    )
    parent: Mapped[CampaignStage] = relationship(
        foreign_keys=[parent_id], back_populates="child_links"
    )


class CampaignVersion(db.Model):
    """One saved state of a campaign: its complete INI text (export_ini, which parse_ini
    reads back to the same campaign), who saved it, when and why. Every save writes one, in
    its own transaction (app/campaigns/store.py save_campaign -> app/campaigns/versions.py),
    so any version can be shown, compared, exported and put back."""

    __tablename__ = "campaign_version"
    __table_args__ = (UniqueConstraint("campaign_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaign.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column()  # 1, 2, ... per campaign
    ini_text: Mapped[str] = mapped_column(Text)
    # None: not a person's save (what the campaign held when versions began to be kept, or
    # a shared job type or login setup changed on its own page).
    experimenter_id: Mapped[int | None] = mapped_column(ForeignKey("experimenter.id"))
    # How it was made: upload, editor, page, api, cli, rollback, clone, found.
    source: Mapped[str] = mapped_column(String(32), default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    created = mapped_column(db.DateTime, default=utcnow, nullable=False)

    campaign: Mapped[Campaign] = relationship()
    experimenter = relationship("Experimenter")
