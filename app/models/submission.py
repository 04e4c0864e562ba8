"""A submission: one launch of a campaign stage, its jobs, and its state history.

The submission row is written before its launch command runs (so a crashed worker cannot
launch twice or lose what it launched); its state changes only through
app/states.py, each change leaving a SubmissionEvent row. Job counters live on the
submission row so pages read one row, never count thousands of jobs.
"""
from __future__ import annotations

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, defer, mapped_column, relationship

from app.extensions import db
from app.models.base import utcnow


class Submission(db.Model):
    __table_args__ = (
        # The dashboard counts an experiment's submissions by state.
        Index("ix_submission_experiment_state", "experiment_id", "state"),
        Index("ix_submission_state_tracked", "state", "tracked_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # RESTRICT: a stage that has launched keeps its history; campaigns that launched
    # cannot be deleted.
    campaign_stage_id: Mapped[int] = mapped_column(
        ForeignKey("campaign_stage.id", ondelete="RESTRICT"), index=True
    )
    # Copied from the stage's campaign so the dashboard needs no joins.
    experiment_id: Mapped[int | None] = mapped_column(ForeignKey("experiment.id"))
    state: Mapped[str] = mapped_column(String(32), default="New")
    created = mapped_column(db.DateTime, default=utcnow, nullable=False, index=True)
    updated = mapped_column(db.DateTime, default=utcnow, onupdate=utcnow, nullable=False)
    launcher_id: Mapped[int | None] = mapped_column(ForeignKey("experimenter.id"))
    test: Mapped[bool] = mapped_column(default=False)
    # What asked for it, in words: "web", "command line", "schedule", "parent 12", ...
    origin: Mapped[str] = mapped_column(String(64), default="")
    # Recoveries (issue 5): the submission this one re-runs files of, and its position.
    recovery_of_id: Mapped[int | None] = mapped_column(
        ForeignKey("submission.id", ondelete="SET NULL"), index=True
    )
    recovery_position: Mapped[int | None] = mapped_column()
    dataset: Mapped[str] = mapped_column(Text, default="")
    # The dataset this submission's dependents read instead of its outputs: an approval or
    # datatransfer stage's input, or what `await_approval --dataset` named ("": outputs).
    dependents_dataset: Mapped[str] = mapped_column(Text, default="", server_default="")
    param_overrides = mapped_column(JSON, nullable=False, default=list)  # extra, per launch

    # What ran, as it was at launch.
    stage_snapshot_id: Mapped[int | None] = mapped_column(ForeignKey("stage_snapshot.id"))
    job_type_snapshot_id: Mapped[int | None] = mapped_column(ForeignKey("job_type_snapshot.id"))
    login_setup_snapshot_id: Mapped[int | None] = mapped_column(
        ForeignKey("login_setup_snapshot.id")
    )
    launcher_kind: Mapped[str] = mapped_column(String(16), default="")
    engine: Mapped[str] = mapped_column(String(16), default="")
    command: Mapped[str] = mapped_column(Text, default="")
    launch_env = mapped_column(JSON, nullable=False, default=dict)
    input_files = mapped_column(JSON, nullable=True)

    # The launch itself: claimed once (never twice), then run, then recorded.
    launch_claimed_at = mapped_column(db.DateTime, nullable=True)
    # "host:pid" of the work horse that claimed it: a claim whose process is gone before
    # anything ran is given back (app/tracking/tracker.py), the launch tried again.
    launch_claimed_by: Mapped[str] = mapped_column(String(255), default="", server_default="")
    # Launches given back so far (a database error, a launch directory that could not be
    # written, a worker killed between its claim and the script's start); bounded by
    # POMS_LAUNCH_ATTEMPTS.
    launch_attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    launch_started_at = mapped_column(db.DateTime, nullable=True)
    launch_finished_at = mapped_column(db.DateTime, nullable=True)
    launch_pid: Mapped[int | None] = mapped_column()
    launch_host: Mapped[str] = mapped_column(String(255), default="")
    # The machine whose process launch_pid is (the worker's), so only it judges the pid.
    launch_worker: Mapped[str] = mapped_column(String(255), default="")
    launch_output: Mapped[str] = mapped_column(Text, default="")  # path of the output file
    launch_exit_code: Mapped[int | None] = mapped_column()
    launch_error: Mapped[str] = mapped_column(Text, default="")
    # The OS account the launch ran as on this machine (the local launcher's launch
    # account; empty: the service itself in dev mode, or ssh's login account): its batch
    # ids must be clusters of that account's.
    launch_account: Mapped[str] = mapped_column(String(64), default="", server_default="")
    # Why the last tracking pass could not follow this submission (a batch id the engine
    # refuses), shown on its page; empty when it tracked.
    tracking_error: Mapped[str] = mapped_column(Text, default="", server_default="")

    # The batch system's ids: the first one as jobsub names it, and every cluster.
    batch_id: Mapped[str] = mapped_column(String(255), default="", index=True)
    batch_ids = mapped_column(JSON, nullable=False, default=list)

    jobs_total: Mapped[int] = mapped_column(default=0)
    jobs_idle: Mapped[int] = mapped_column(default=0)
    jobs_running: Mapped[int] = mapped_column(default=0)
    jobs_held: Mapped[int] = mapped_column(default=0)
    jobs_done: Mapped[int] = mapped_column(default=0)
    jobs_failed: Mapped[int] = mapped_column(default=0)
    jobs_removed: Mapped[int] = mapped_column(default=0)
    tracked_at = mapped_column(db.DateTime, nullable=True)
    # {cluster id: how far tracking has read its engine's event log} (app/tracking/events.py)
    event_positions = mapped_column(JSON, nullable=False, default=dict, server_default="{}")

    stage = relationship("CampaignStage")
    launcher = relationship("Experimenter")
    recovery_of = relationship("Submission", remote_side=[id])
    stage_snapshot = relationship("StageSnapshot")
    job_type_snapshot = relationship("JobTypeSnapshot")
    login_setup_snapshot = relationship("LoginSetupSnapshot")

    @property
    def jobs_finished(self) -> int:
        return self.jobs_done + self.jobs_failed + self.jobs_removed

    @property
    def percent_done(self) -> int:
        return int(100 * self.jobs_done / self.jobs_total) if self.jobs_total else 0


def listed() -> tuple:
    """Query options for a list of submissions (the dashboard, what needs attention): the
    launch's JSON, which no list shows, is loaded only if asked for; decoding it (the input
    files of each) cost more than the query."""
    return (defer(Submission.input_files), defer(Submission.launch_env),
            defer(Submission.param_overrides), defer(Submission.batch_ids))


class SubmissionEvent(db.Model):
    """One state change of a submission: when, from what, to what, and why."""

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("submission.id", ondelete="CASCADE"), index=True
    )
    at = mapped_column(db.DateTime, default=utcnow, nullable=False)
    from_state: Mapped[str | None] = mapped_column(String(32))
    to_state: Mapped[str] = mapped_column(String(32))
    cause: Mapped[str] = mapped_column(Text, default="")
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("experimenter.id"))

    actor = relationship("Experimenter")


class Job(db.Model):
    """One batch job of a submission, as the batch engine last reported it."""

    __table_args__ = (
        UniqueConstraint("submission_id", "batch_job_id"),
        Index("ix_job_submission_state", "submission_id", "state"),
        # The overview's finish estimate (jobs that ended in the last hour, per stage) and
        # the campaign's time bars (each submission's last job end), from the index alone.
        Index("ix_job_submission_ended", "submission_id", "ended_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submission.id", ondelete="CASCADE"))
    batch_job_id: Mapped[str] = mapped_column(String(255))  # 12345.0@jobsub01.fnal.gov
    # Idle, Running, Held, Completed (exit 0), Failed (other exit), Removed
    state: Mapped[str] = mapped_column(String(16), default="Idle")
    exit_code: Mapped[int | None] = mapped_column()
    host: Mapped[str] = mapped_column(String(255), default="")
    started_at = mapped_column(db.DateTime, nullable=True)
    ended_at = mapped_column(db.DateTime, nullable=True)
    updated_at = mapped_column(db.DateTime, default=utcnow, nullable=False)
    # What the job used, as the batch engine measured it (the local engine does; for
    # others the log analysis reads it from the log): CPU and wall seconds, peak MiB.
    cpu_time_s: Mapped[float | None] = mapped_column(db.Float)
    wall_time_s: Mapped[float | None] = mapped_column(db.Float)
    peak_memory_mb: Mapped[float | None] = mapped_column(db.Float)


class BatchAction(db.Model):
    """A kill, hold or release of a submission's jobs that a person asked for: the request
    answers at once, a worker asks the batch engine (app/tracking/actions.py).

    state: requested (queued for a worker), running (a worker claimed it), done, refused
    (it no longer applied: the submission had moved on), failed (the batch system refused
    or did not answer). `pending_for` holds the submission's id while the action is
    requested or running, and is unique: one action at a time per submission.
    """

    __tablename__ = "batch_action"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("submission.id", ondelete="CASCADE"), index=True
    )
    action: Mapped[str] = mapped_column(String(16))  # kill, hold, release
    state: Mapped[str] = mapped_column(String(16), default="requested")
    pending_for: Mapped[int | None] = mapped_column(unique=True)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("experimenter.id"))
    # What asked for it, in words: "web", "api", "command line"
    origin: Mapped[str] = mapped_column(String(64), default="")
    requested_at = mapped_column(db.DateTime, default=utcnow, nullable=False)
    started_at = mapped_column(db.DateTime, nullable=True)
    finished_at = mapped_column(db.DateTime, nullable=True)
    result: Mapped[str] = mapped_column(Text, default="")  # what was done, or why not

    requested_by = relationship("Experimenter")
