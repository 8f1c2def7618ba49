"""SQLAlchemy models, one module per area; no I/O here. Import them from this package."""
from .core import (CHINA, RISK_LEVELS, ROLES, STAGES, AssetSnapshot, ClientProfile, ClientView,  # noqa: F401
                   ContactMobile, ExternalContact, Follow, FollowUpNote, GroupChat, GroupMember, Role, Staff,
                   TokenCache, china_today, from_epoch, utcnow)
