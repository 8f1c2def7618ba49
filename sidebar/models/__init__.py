"""SQLAlchemy models, one module per area; no I/O here. Import them from this package."""
from .core import (CHINA, RISK_LEVELS, ROLES, STAGES, AssetSnapshot, ClientProfile, ClientView,  # noqa: F401
                   ContactMobile, DataVersion, ExternalContact, Follow, FollowUpNote, GroupChat, GroupMember,
                   Role, Staff, StaffSession, TokenCache, WeComMiss, china_day, china_today, from_epoch, utcnow)
from .core import EARLIEST_DAY  # noqa: F401
from .categories import MAX_CATEGORY, MaterialCategory  # noqa: F401
from .groups import GroupSnapshot  # noqa: F401
from .jobs import JobRun, JobState, JobWorker, TradingClosure  # noqa: F401
from .materials import (KIND_LABELS, KINDS, PRODUCT_LEVELS, LinkOpen, Material, MaterialVersion,  # noqa: F401
                        RateLimit, Share, StoredFile, VersionEditor, WeComMedia, in_schema)
from .qualified import QualifiedGroup  # noqa: F401
from .sync import INBOX_STATES, CallbackInbox, CorpTag, SyncRun, SyncSeen  # noqa: F401
from .sop import PLAN_KINDS, TASK_STATES, SopPlan, SopPlanVersion, SopReminder, SopTarget, SopTask  # noqa: F401
from .manage import EVENT_KINDS, JourneyEvent, ScoreIndicator  # noqa: F401
from .org import AdvisorActivity, Department, GroupActivity  # noqa: F401
from .masssend import MASS_STATES, SopMassSend  # noqa: F401
from .actions import REMINDER_STATES, SCENES, FollowUpReminder, MaterialScene  # noqa: F401
from .acquisition import CHANNEL_KINDS, WELCOME_STATES, Channel, ChannelArrival  # noqa: F401
from .tagchanges import TAG_ACTIONS, TagChange  # noqa: F401
from .walls import WallScreen  # noqa: F401
