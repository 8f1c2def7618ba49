"""WeCom server-API client, token cache, signatures. Nothing here imports Flask."""
from .cache import DatabaseTokenCache
from .client import WeComClient
from .errors import RateLimited, WeComError, WeComUnavailable
from .jssdk import sign, signature_for

__all__ = ["DatabaseTokenCache", "RateLimited", "WeComClient", "WeComError", "WeComUnavailable", "sign", "signature_for"]
