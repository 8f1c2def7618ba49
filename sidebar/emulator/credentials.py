"""Access tokens, jsapi tickets and OAuth codes the emulator issues, and JS-SDK signatures."""
import hashlib
import hmac
import secrets
from dataclasses import dataclass

CODE_TTL = 300  # an OAuth code lives 5 minutes
FETCH_WINDOW = 3600
# wecom.md: tickets may be fetched at most 100 times an hour per app.
TICKET_FETCH_LIMIT = 100


@dataclass
class Lease:
    """A token or ticket value and when it stops working."""

    value: str
    expires_at: float
    revoked: bool = False

    def alive(self, now):
        """Whether it still works at `now`."""
        return not self.revoked and now < self.expires_at

    def remaining(self, now):
        """Whole seconds left."""
        return max(0, int(self.expires_at - now))


@dataclass
class OAuthCode:
    """A one-time code from the authorize page, bound to who signed in (None: not a member)."""

    userid: str | None
    scope: str
    expires_at: float


def jsapi_signature(ticket, nonce, timestamp, url):
    """wecom.md §1: sha1 of `jsapi_ticket=…&noncestr=…&timestamp=…&url=…`, lowercase hex."""
    plain = f"jsapi_ticket={ticket}&noncestr={nonce}&timestamp={timestamp}&url={url}"
    return hashlib.sha1(plain.encode()).hexdigest()


class Credentials:
    """What has been issued, keyed by kind: `token`, `corp` (jsapi_ticket), `agent` (agent ticket).

    Not locked itself: the emulator holds its one lock around every use.
    """

    KINDS = ("token", "corp", "agent")

    def __init__(self, ttl):
        self.ttl = ttl
        self.leases = {kind: {} for kind in self.KINDS}
        self.codes = {}
        self.fetches = {"corp": [], "agent": []}

    def issue(self, kind, now):
        """The current value of a kind; a new one when none is alive (WeCom repeats it while valid)."""
        for lease in reversed(self.leases[kind].values()):
            if lease.alive(now):
                return lease
        return self.grant(kind, secrets.token_urlsafe(48), now + self.ttl)

    def grant(self, kind, value, expires_at):
        """Record a value as issued (tests use it to plant the official signature vector's ticket)."""
        lease = Lease(value, expires_at)
        self.leases[kind][value] = lease
        return lease

    def count_fetch(self, kind, now):
        """Count one fetch of a ticket kind; how many there were in the last hour, this one included."""
        self.fetches[kind] = [t for t in self.fetches[kind] if now - t < FETCH_WINDOW] + [now]
        return len(self.fetches[kind])

    def token_errcode(self, value, now):
        """0 for a live access token, else WeCom's errcode: 41001 missing, 40014 unknown, 42001 expired."""
        if not value:
            return 41001
        lease = self.leases["token"].get(value)
        if lease is None:
            return 40014
        return 0 if lease.alive(now) else 42001

    def alive_values(self, kind, now):
        """Values of a kind that still work."""
        return [v for v, lease in self.leases[kind].items() if lease.alive(now)]

    def signature_matches(self, kind, nonce, timestamp, url, signature, now):
        """Whether the signature was made with one of the live tickets of this kind."""
        return any(
            hmac.compare_digest(jsapi_signature(ticket, nonce, timestamp, url), signature)
            for ticket in self.alive_values(kind, now)
        )

    def expire_all(self):
        """Every token and ticket issued so far stops working now."""
        for kind in self.KINDS:
            for lease in self.leases[kind].values():
                lease.revoked = True

    def forget_fetches(self):
        """Start the hourly fetch counts afresh."""
        self.fetches = {"corp": [], "agent": []}

    def issue_code(self, userid, scope, now):
        """A one-time OAuth code for whoever signed in."""
        self.codes = {c: g for c, g in self.codes.items() if g.expires_at > now}
        code = secrets.token_urlsafe(32)
        self.codes[code] = OAuthCode(userid, scope, now + CODE_TTL)
        return code

    def redeem_code(self, code, now):
        """The OAuthCode for a code, once; None when unknown, used or expired."""
        grant = self.codes.pop(code, None)
        if grant is None or now >= grant.expires_at:
            return None
        return grant
