"""Typed errors of the WeCom server API."""

# errcodes with a meaning the client acts on (wecom.md §2)
BUSY = -1
TOKEN_INVALID = 40014
TOKEN_EXPIRED = 42001
RATE_LIMITED = (45009, 45033)
CONTACT_GONE = (84061, 40096)  # no relation with anyone any more / unknown contact
GROUP_GONE = 40050  # unknown group: dismissed


class WeComError(Exception):
    """WeCom answered with a non-zero errcode."""

    def __init__(self, errcode, errmsg=""):
        super().__init__(f"WeCom error {errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


class WeComUnavailable(WeComError):
    """WeCom could not be reached, timed out, answered garbage, or is backing us off."""

    def __init__(self, reason):
        super().__init__(None, reason)


class RateLimited(WeComUnavailable):
    """We are staying away from a path WeCom rate-limited (45009/45033) until retry_after passes."""

    def __init__(self, reason, retry_after):
        super().__init__(reason)
        self.retry_after = retry_after
WELCOME_TAKEN = 41051  # the welcome of this add was already sent (another app, or an admin's welcome)
WELCOME_EXPIRED = 41096  # the WelcomeCode is past its 20 seconds (or was never issued)
