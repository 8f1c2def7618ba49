"""Pace bulk WeCom calls under its rate limits, and wait out a 45009/45033 instead of failing."""
import time

from ..wecom import RateLimited, WeComError
from ..wecom.errors import RATE_LIMITED

DEFAULT_PACE = 0.02  # 50 calls a second at most: 3,000 a minute, well under WeCom's 10,000 per API
MAX_BACKOFFS = 10  # an hour of rate limits in a row means something else is wrong: stop, resume later
MIN_BACKOFF = 0.05


class Pacer:
    """Spaces calls at least `pace` seconds apart; on a rate limit waits as long as WeCom asked, then retries."""

    def __init__(self, wecom, pace=DEFAULT_PACE, on_backoff=None, sleep=time.sleep, clock=time.monotonic):
        self.wecom = wecom
        self.pace = pace
        self.on_backoff = on_backoff or (lambda seconds: None)
        self.backoffs = 0
        self._sleep = sleep
        self._clock = clock
        self._last = None

    def call(self, function, *args, **kwargs):
        """function(*args, **kwargs) in its turn, retried after each rate limit up to MAX_BACKOFFS times."""
        for attempt in range(MAX_BACKOFFS + 1):
            self._wait_turn()
            try:
                return function(*args, **kwargs)
            except WeComError as error:
                if not is_rate_limited(error) or attempt == MAX_BACKOFFS:
                    raise
                self._back_off()
        raise AssertionError("unreachable")

    def _wait_turn(self):
        """Sleep until `pace` seconds have passed since the previous call."""
        now = self._clock()
        if self._last is not None and self.pace > 0:
            remaining = self._last + self.pace - now
            if remaining > 0:
                self._sleep(remaining)
        self._last = self._clock()

    def _back_off(self):
        """Wait until the client's pause on the limited path is over."""
        seconds = max(self.wecom.pause_remaining(), MIN_BACKOFF)
        self.backoffs += 1
        self.on_backoff(seconds)
        self._sleep(seconds)


def is_rate_limited(error):
    """WeCom said 45009/45033 now, or earlier and we are still staying away."""
    return isinstance(error, RateLimited) or error.errcode in RATE_LIMITED
