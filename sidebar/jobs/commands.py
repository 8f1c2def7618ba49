"""`flask --app wsgi worker`, and the lock and record that the by-hand commands share with the worker."""
import copy
import functools
import logging
from contextlib import contextmanager

import click
from flask import current_app
from flask.cli import with_appcontext

from ..extensions import db
from . import runs


@click.command("worker")
@click.option("--threads", default=4, show_default=True, type=click.IntRange(1, 64),
              help="Tasks run at once (they mostly wait on WeCom).")
@with_appcontext
def worker_command(threads):
    """Run the task-queue worker: callbacks, tag pushes, app messages, media, periodic jobs. Stop with SIGTERM."""
    from ..queue import engine_of
    from .worker import Consumer

    app = current_app._get_current_object()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s [%(name)s] %(message)s")
    click.echo(f"worker: {threads} threads, queue on {engine_of(app.config)}, periodic jobs in China time")
    Consumer(app, threads=threads).run()


@contextmanager
def by_hand(name):
    """Run periodic job `name` from its command: a worker's run of it waits for this one, which is recorded.

    Boundary: a failed command's writes are rolled back before its failure is recorded and committed.
    """
    app, holder = current_app._get_current_object(), runs.holder_id("command")
    try:
        run_id = runs.begin(name, "command", holder)
    except runs.Busy as busy:
        raise click.ClickException(f"{name} is running already: {busy}. Try again when it has finished.") from None
    try:
        with runs.renewing(app, name, holder):
            yield
    except BaseException as error:
        db.session.rollback()  # what the command left unfinished is not kept: only its failure is recorded
        said = error.message if isinstance(error, click.ClickException) else runs.describe(error)
        runs.finish(run_id, holder, "failed", error=said)
        raise
    runs.finish(run_id, holder, "done")


def lock_commands(cli):
    """Replace each periodic job's command in `cli` (an app's) by a copy that runs under by_hand."""
    from .tasks import JOBS

    for name, job in JOBS.items():
        if job.command in cli.commands:
            command = copy.copy(cli.commands[job.command])  # the module's command is every app's: not changed
            command.callback = _by_hand_callback(command.callback, name)
            cli.add_command(command)


def _by_hand_callback(callback, name):
    """callback, run inside by_hand(name) (in the app context it needs)."""
    @with_appcontext
    @functools.wraps(callback)
    def locked(*args, **kwargs):
        with by_hand(name):
            return callback(*args, **kwargs)
    return locked
