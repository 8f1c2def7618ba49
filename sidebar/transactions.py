"""The units of work: a request, a command and a job each commit the session once, when they succeed.

Services only write; they do not commit or roll back, except at the few boundaries that say so in
their docstrings ("Boundary: …", checked by tests/test_transactions.py).
"""
import copy
import functools

import click
from flask import current_app

from .extensions import db


def end_request(response):
    """Boundary: a request is a unit of work — committed when it succeeded (status < 400), else undone.

    Runs before the response leaves: a commit that fails raises here and the client gets a 500 (the
    error's response comes back through this hook and is rolled back), never a success whose writes
    were lost. An exception in a view never reaches here: the session's teardown rolls it back.
    """
    if response.status_code < 400:
        db.session.commit()
    else:
        db.session.rollback()
    return response


def committed(work):
    """work(*args, **kwargs), then commit; rolled back and re-raised when it raises (jobs and commands)."""
    @functools.wraps(work)
    def run(*args, **kwargs):
        return unit_of_work(work, *args, **kwargs)
    return run


def unit_of_work(work, *args, **kwargs):
    """Boundary: a job or a command is a unit of work — work's writes committed when it returns, undone
    when it raises."""
    try:
        result = work(*args, **kwargs)
    except BaseException:
        db.session.rollback()
        raise
    db.session.commit()
    return result


def commit_commands(app):
    """Make each of app's commands a unit of work (copies: the module's command objects are every app's)."""
    for name, command in list(app.cli.commands.items()):
        app.cli.add_command(_committing(app, command), name)


def _committing(app, command):
    """A copy of command (a group's subcommands too) whose callback runs in app's context and commits."""
    command = copy.copy(command)
    if isinstance(command, click.Group):
        command.commands = {name: _committing(app, sub) for name, sub in command.commands.items()}
    elif command.callback is not None:
        command.callback = _in_app(app, committed(command.callback))
    return command


def _in_app(app, callback):
    """callback inside app's context — the one `flask` pushed (a group's callback may have put things in its
    `g`), else one pushed here — so that the commit comes before the context ends."""
    @functools.wraps(callback)
    def run(*args, **kwargs):
        if current_app:
            return callback(*args, **kwargs)
        with app.app_context():
            return callback(*args, **kwargs)
    return run


def init_app(app):
    """Commit each request that succeeded (the hook runs after the others: it is registered first)."""
    app.after_request(end_request)
