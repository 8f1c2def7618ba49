"""`flask --app wsgi worker`, and the lock and record that the by-hand commands share with the worker."""
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
    from .queue import engine_of
    from .worker import Consumer

    app = current_app._get_current_object()
    click.echo(f"worker: {threads} threads, queue on {engine_of(app.config)}, periodic jobs in China time")
    Consumer(app, threads=threads).run()


@contextmanager
def by_hand(name):
    """Run periodic job `name` from its command: a worker's run of it waits for this one, which is recorded."""
    app, holder = current_app._get_current_object(), runs.holder_id("command")
    try:
        run_id = runs.begin(name, "command", holder)
    except runs.Busy as busy:
        raise click.ClickException(f"{name} is running already: {busy}. Try again when it has finished.") from None
    try:
        with runs.renewing(app, name, holder):
            yield
    except BaseException as error:
        db.session.rollback()  # what the command left unfinished is not kept
        runs.finish(run_id, holder, "failed", error=runs.describe(error))
        raise
    runs.finish(run_id, holder, "done")
