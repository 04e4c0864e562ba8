"""SQLAlchemy models, one module per aggregate; import them all so Alembic sees them."""
from app.models.api_token import ApiToken  # noqa: F401
from app.models.audit import AuditEntry
from app.models.campaign import (
    Campaign,
    CampaignStage,
    CampaignTag,
    CampaignVersion,
    JobType,
    LoginSetup,
    StageDependency,
)
from app.models.catalog import StageSplitState  # noqa: F401  (and the catalogue tables)
from app.models.chaining import (  # noqa: F401
    ChainJobRecord,
    ChainStep,
    JobOutput,
    ReprocessMark,
)
from app.models.experiment import ROLES, Experiment, Experimenter, Membership
from app.models.launching import (
    ExperimentLaunchHold,
    JobTypeSnapshot,
    LoginSetupSnapshot,
    StageLaunchSettings,
    StageSnapshot,
)
from app.models.logs import FailureSignature, SignatureSeeding  # noqa: F401
from app.models.submission import BatchAction, Job, Submission, SubmissionEvent
from app.models.ucondb import (  # noqa: F401
    FclUpload,
    UconBlob,
    UconFolder,
    UconObject,
    UconTag,
    UconVersion,
)
from app.models.uploaded_file import UploadedFile
from app.models.watching import (  # noqa: F401
    BreakerPolicy,
    Delivery,
    StageBreaker,
    Watch,
    WatchCursor,
    WatchEvent,
    WatchNotice,
)

__all__ = [
    "ROLES",
    "AuditEntry",
    "BatchAction",
    "Campaign",
    "CampaignStage",
    "CampaignTag",
    "CampaignVersion",
    "Experiment",
    "ExperimentLaunchHold",
    "Experimenter",
    "Job",
    "JobType",
    "JobTypeSnapshot",
    "LoginSetup",
    "LoginSetupSnapshot",
    "Membership",
    "StageDependency",
    "StageLaunchSettings",
    "StageSnapshot",
    "Submission",
    "SubmissionEvent",
    "UploadedFile",
]
