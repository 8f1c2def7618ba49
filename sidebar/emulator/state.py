"""The emulator's run-time state beside the world: clock, faults, call log, messages."""
import time
from collections import Counter, deque
from dataclasses import dataclass, field

from flask import current_app

from .callbacks import CallbackSender
from .credentials import Credentials
from .mass import MassSends
from .media import MediaStore
from .world import World

EXTENSION = "wecom_emulator"
CALL_LOG_SIZE = 10_000  # the demo runs for days; keep the log bounded


class Clock:
    """Real time plus an offset that tests move forward to expire tokens, codes and media."""

    def __init__(self):
        self.offset = 0.0

    def now(self):
        """The emulator's current epoch time."""
        return time.time() + self.offset

    def advance(self, seconds):
        """Move the clock forward."""
        self.offset += seconds


@dataclass
class ErrcodeFault:
    """Answer `errcode` on `path` (every API path when None) for `remaining` calls (None: until cleared),
    after letting `after` calls through first (a failure in the middle of a long run)."""

    errcode: int
    path: str | None = None
    remaining: int | None = None
    after: int = 0


class Faults:
    """The switches a test can flip to make the server API misbehave."""

    def __init__(self):
        self.clear()

    def clear(self):
        """Behave normally again."""
        self.rules = []
        self.down = False
        self.delay = 0.0

    def add(self, errcode, path=None, count=None, after=0):
        """Answer an errcode on a path (or every path) for `count` calls or until cleared, after `after` calls."""
        self.rules.append(ErrcodeFault(errcode, path, count, after))

    def take(self, path):
        """The errcode to answer on this call, if a fault applies; counts the call against it."""
        for rule in self.rules:
            if rule.path in (None, path):
                if rule.after > 0:
                    rule.after -= 1
                    continue
                if rule.remaining is not None:
                    rule.remaining -= 1
                    if rule.remaining <= 0:
                        self.rules.remove(rule)
                return rule.errcode
        return None

    def as_json(self):
        """The current switches."""
        rules = [{"errcode": r.errcode, "path": r.path, "remaining": r.remaining, "after": r.after}
                 for r in self.rules]
        return {"errcodes": rules, "down": self.down, "delay": self.delay}


class Recorder:
    """What happened: API calls (with per-path counts) and messages sent."""

    def __init__(self):
        self.clear()

    def clear(self):
        """Forget calls and messages."""
        self.clear_calls()
        self.messages = []

    def clear_calls(self):
        """Forget calls only."""
        self.calls = deque(maxlen=CALL_LOG_SIZE)
        self.counts = Counter()

    def record_call(self, path, params, at):
        """Log one API call."""
        self.calls.append({"path": path, "params": params, "at": at})
        self.counts[path] += 1

    def record_message(self, message):
        """Log a message put in a chat or sent as an app message."""
        self.messages.append(message)
        return message


@dataclass
class EmulatorState:
    """Everything one emulator instance knows; guarded by the world's lock."""

    corp_id: str
    agent_id: str
    secret: str
    sidebar_url: str
    logout_url: str | None
    world: World
    credentials: Credentials
    clock: Clock = field(default_factory=Clock)
    faults: Faults = field(default_factory=Faults)
    recorder: Recorder = field(default_factory=Recorder)
    media: MediaStore = field(default_factory=MediaStore)
    mass: MassSends = field(default_factory=MassSends)  # 客户群发 tasks (groupmsg.py)
    callbacks: CallbackSender | None = None  # set by create_emulator, which knows the corp
    acquisition: object = None  # acquisition.Desk: contact-me and join codes, WelcomeCodes

    @property
    def lock(self):
        """The one lock around the emulator's state."""
        return self.world.lock

    def now(self):
        """The emulator clock's time."""
        return self.clock.now()

    def reset(self):
        """Back to normal for the next test: no faults, empty logs, the real time, no callback target.

        Keeps the world."""
        with self.lock:
            self.faults.clear()
            self.recorder.clear()
            self.clock.offset = 0.0
            self.credentials.forget_fetches()
            self.mass.clear()
            if self.callbacks:
                self.callbacks.reset()


def current_state():
    """The EmulatorState of the app handling this request."""
    return current_app.extensions[EXTENSION]
