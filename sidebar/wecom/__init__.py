"""WeCom server-API client, token cache, signatures. Nothing here imports Flask."""
from .cache import DatabaseTokenCache
from .client import WeComClient
from .errors import WeComError, WeComUnavailable
from .jssdk import sign, signature_for

__all__ = ["DatabaseTokenCache", "WeComClient", "WeComError", "WeComUnavailable", "sign", "signature_for"]
