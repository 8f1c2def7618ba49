"""The worker: Huey's consumer inside the app, with a scheduler that also starts our periodic jobs.

Every worker enqueues every tick it sees (the database lets one of them run it: runs.begin), so any
number of workers on any number of hosts may run, and none is special. The scheduler reads the time
from an injectable clock, so tests drive the schedule without waiting for it.
"""
import logging
import time
from datetime import datetime, timezone

from huey import consumer

from . import runs
from ..queue import queue
from .tasks import due, enqueue_periodic

HEARTBEAT = 10  # seconds between a worker's "alive" rows
log = logging.getLogger(__name__)


def system_clock():
    """Now, aware (UTC)."""
    return datetime.now(timezone.utc)


class Scheduler(consumer.Scheduler):
    """Huey's scheduler (delayed tasks, retries), plus our periodic jobs and the worker's heartbeat."""

    def __init__(self, huey, stop_flag, interval, periodic, app, clock, worker_id, threads):
        super().__init__(huey, stop_flag, interval, periodic)
        self.periodic_task_seconds = self.interval  # look every turn: ticks come from the clock, not a count
        self.app, self.clock, self.worker_id, self.threads = app, clock, worker_id, threads
        self._minute = None  # the last minute looked at
        self._sent = {}  # job -> the tick this scheduler enqueued last
        self._beat = 0.0

    def initialize(self):
        """Announce the worker."""
        self._heartbeat()

    def loop(self, now=None):
        """One turn of Huey's scheduler, with a heartbeat every HEARTBEAT seconds."""
        if time.monotonic() - self._beat >= HEARTBEAT:
            self._heartbeat()
        super().loop(now)

    def enqueue_periodic_tasks(self, now):
        """Once a minute (by the clock), enqueue each periodic job whose tick has come and is unclaimed."""
        minute = self.clock().replace(second=0, microsecond=0)
        if minute == self._minute:
            return
        try:
            with self.app.app_context():
                for name, tick in list(due(minute, self._sent)):
                    if enqueue_periodic(queue(), name, tick):
                        self._sent[name] = tick
            self._minute = minute
        except Exception:  # noqa: BLE001 - the database or queue away for a moment: look again next turn
            log.exception("periodic jobs not checked")

    def shutdown(self):
        """A worker stopping cleanly is no longer listed."""
        with self.app.app_context():
            try:
                runs.forget_worker(self.worker_id)
            except Exception:  # noqa: BLE001 - it drops off the list by itself after runs.ALIVE
                log.exception("worker %s not unlisted", self.worker_id)

    def _heartbeat(self):
        """Write this worker's row (seen now)."""
        self._beat = time.monotonic()
        with self.app.app_context():
            try:
                runs.heartbeat(self.worker_id, self.threads)
            except Exception:  # noqa: BLE001 - try again at the next beat
                log.exception("worker heartbeat not written")


class Consumer(consumer.Consumer):
    """Huey's consumer for an app: worker threads and our scheduler; embedded ones leave signals alone."""

    def __init__(self, app, threads=4, periodic=True, clock=system_clock, embedded=False, **options):
        self.app, self.clock, self.embedded = app, clock, embedded
        self.worker_id = runs.holder_id("worker")
        # max_delay: an idle SQLite queue is looked at twice a second (PostgreSQL and Redis wake the
        # worker themselves); graceful on SIGTERM, which systemd and docker send to stop a service
        super().__init__(queue_of(app).huey, workers=threads, periodic=periodic, worker_type="thread",
                         max_delay=0.5, graceful_signal="TERM", **options)

    def _create_scheduler(self):
        """Our scheduler instead of Huey's."""
        return Scheduler(self.huey, self.stop_flag, self.scheduler_interval, self.periodic, self.app, self.clock,
                         self.worker_id, self.workers)

    def _set_signal_handlers(self):
        """A worker inside another program (the demo, a test) leaves that program's signals alone."""
        if not self.embedded:
            super()._set_signal_handlers()


def queue_of(app):
    """app's queue (outside an app context)."""
    return app.extensions["jobs"]


def start_worker(app, threads=2, periodic=True, clock=system_clock):
    """A worker running in threads of this process (the demo, tests); stop it with .stop(graceful=True)."""
    worker = Consumer(app, threads=threads, periodic=periodic, clock=clock, embedded=True)
    worker.start()
    return worker
