"""A request, a command or a job is the unit of work: services commit or roll back only at named boundaries."""
import ast
import pathlib
from types import SimpleNamespace

import pytest
from flask import abort
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from sidebar.database import savepoint, upsert_retrying
from sidebar.extensions import db
from sidebar.identity.service import grant_role
from sidebar.jobs import tasks
from sidebar.models import JobRun, Role
from sidebar.transactions import unit_of_work

SIDEBAR = pathlib.Path(__file__).resolve().parent.parent / "sidebar"
ENDINGS = {"commit", "rollback"}
# (module under sidebar/, function): the only places that end a transaction themselves, each saying why in its
# docstring ("Boundary: …"). Adding one is a decision: name it here and there.
BOUNDARIES = {
    ("transactions", "end_request"), ("transactions", "unit_of_work"),  # the units of work themselves
    ("jobs.commands", "by_hand"),
    ("jobs.runs", "begin"), ("jobs.runs", "finish"), ("jobs.runs", "record_failure"), ("jobs.runs", "renew"),
    ("jobs.runs", "heartbeat"), ("jobs.runs", "forget_worker"),  # job records, kept whatever the work did
    ("ratelimit", "allow"), ("ratelimit", "once_per"),  # a refused request's hit still counts
    ("insight.contact", "_log_view"),  # the access log
    ("domain.access", "_remember_miss"),  # remembered though the request then fails (404)
    ("materials.sharing", "_record"), ("sop.tasks", "_block"),  # the share audit, blocked and failed ones too
    ("sop.tasks", "_attach"),  # a task's share, before the step's next upload
    ("materials.review", "_save"),  # stored files are deleted again unless their rows committed
    ("materials.media", "_remember"),  # an upload's media_id, before the next upload
    ("sync.profiles", "_store"),  # the import's chunks
    ("sync.inbox", "store"), ("sync.inbox", "process"), ("sync.inbox", "_finish"),  # one callback at a time
    ("materials.tracking", "_record_open"), ("sop.tick", "tick"),
    ("actions.reminders", "claim_due"),  # committed before the tasks that read them are queued
    # before or right after a call to WeCom: nothing lost, nothing sent twice, no write held across a call
    ("acquisition.arrival", "send_welcome"), ("acquisition.arrival", "record_add"),
    ("acquisition.channels", "create_channel"), ("actions.profile", "edit_profile"),
    ("domain.directory", "store_contact"), ("domain.directory", "store_group"), ("domain.directory", "ensure_staff"),
    ("domain.directory", "end_follows"),
    ("sop.masssend", "start"), ("sop.masssend", "_create"), ("sop.masssend", "poll"), ("sop.masssend", "check"),
    ("sop.masssend", "_confirmed"),
    ("sync.tags", "refresh_corp_tags"), ("sync.departments", "refresh_departments"),
    # resumable runs: a page and its cursor together
    ("sync.full", "sync"), ("sync.full", "_open_run"), ("sync.full", "_advance"), ("sync.full", "_save_cursor"),
    ("sync.full", "_record_error"), ("sync.full", "_sync_staff"), ("sync.activity", "_insert"),
    ("sync.tags", "push_tags"), ("sync.tags", "_push_follow"), ("sync.tags", "_open_run"), ("sync.tags", "_close_run"),
    ("sync.tags", "_create"),
    ("demo", "prepare_demo"), ("demo", "forget_last_emulator"),  # the demo's seeding
}


def session_endings():
    """(module, function) -> its docstring, for each function under sidebar/ (not the emulator) that commits or
    rolls back a session itself."""
    found = {}
    for path in sorted(SIDEBAR.rglob("*.py")):
        relative = path.relative_to(SIDEBAR.parent)
        if relative.parts[1] == "emulator":
            continue
        module = ".".join(relative.with_suffix("").parts[1:])
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                own = [call for call in _own_nodes(node) if isinstance(call, ast.Call)
                       and isinstance(call.func, ast.Attribute) and call.func.attr in ENDINGS and not call.args]
                if own:
                    found[(module, node.name)] = ast.get_docstring(node) or ""
    return found


def _own_nodes(function):
    """The nodes of function's body, not of the functions defined inside it."""
    todo = list(function.body)
    while todo:
        node = todo.pop()
        yield node
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            todo.extend(ast.iter_child_nodes(node))




def test_only_the_named_boundaries_commit_or_roll_back_and_each_says_why():
    found = session_endings()
    assert set(found) == BOUNDARIES, ("not named as boundaries:", sorted(set(found) - BOUNDARIES),
                                      "no longer ending a transaction:", sorted(BOUNDARIES - set(found)))
    unexplained = sorted(key for key, doc in found.items() if "Boundary:" not in doc)
    assert not unexplained, f"say why in the docstring (Boundary: …): {unexplained}"


# -- the units of work ----------------------------------------------------------------------------------

def stored_roles(app):
    """(userid, role) pairs as another connection sees them: only what was committed."""
    with app.app_context(), db.engine.connect() as connection:
        return set(connection.execute(text("SELECT userid, role FROM role")).tuples())


def add_routes(app):
    """Test routes that write a role and then succeed, refuse, fail or break the commit."""
    def write(outcome):
        grant_role("u-" + outcome, "compliance")
        if outcome == "refused":
            abort(403)
        if outcome == "raises":
            raise RuntimeError("after the write")
        if outcome == "breaks":  # the row exists already: the INSERT fails only when the request commits
            db.session.add(Role(userid="u-ok", role="compliance"))
        return "done"
    app.add_url_rule("/_test/write/<outcome>", "test_write", write)


def test_a_request_keeps_its_writes_only_when_it_succeeded(app):
    add_routes(app)
    app.config["PROPAGATE_EXCEPTIONS"] = False  # what a user gets: the error page, as in production
    client = app.test_client()
    assert client.get("/_test/write/ok").status_code == 200
    assert ("u-ok", "compliance") in stored_roles(app)
    assert client.get("/_test/write/refused").status_code == 403
    assert client.get("/_test/write/raises").status_code == 500
    assert client.get("/_test/write/breaks").status_code == 500, "a failed commit is an error, not a success"
    assert stored_roles(app) == {("u-ok", "compliance")}, "a refused or failed request leaves nothing"


def test_a_job_keeps_its_writes_only_when_it_returned(app):
    def failing():
        grant_role("u-job", "compliance")
        raise RuntimeError("the job broke")

    with app.app_context():
        unit_of_work(grant_role, "u-done", "compliance")
        with pytest.raises(RuntimeError):
            tasks._queued(app, "callback", failing)(task=SimpleNamespace(retries=0, retry_delay=0))
    assert stored_roles(app) == {("u-done", "compliance")}
    with app.app_context():
        failures = db.session.scalars(select(JobRun).where(JobRun.job == "callback")).all()
        assert [run.status for run in failures] == ["failed"], "the failure itself is recorded"


def test_a_command_keeps_its_writes_when_it_succeeded(app):
    result = app.test_cli_runner().invoke(args=["roles", "grant", "u-cli", "compliance"])
    assert result.exit_code == 0, result.output
    assert ("u-cli", "compliance") in stored_roles(app)


def test_an_expected_error_in_a_savepoint_keeps_the_callers_work(app):
    with app.app_context():
        grant_role("u-first", "compliance")
        db.session.commit()
        grant_role("u-caller", "compliance")  # the caller's work, not committed yet
        with pytest.raises(IntegrityError):
            with savepoint():
                db.session.add(Role(userid="u-first", role="compliance"))  # a concurrent insert won
        assert db.session.get(Role, ("u-caller", "compliance")) is not None
        db.session.commit()
    assert stored_roles(app) == {("u-first", "compliance"), ("u-caller", "compliance")}


def test_a_savepoint_first_in_its_transaction_is_undone_with_it(app):
    """SQLite: a SAVEPOINT outside a transaction would start one, and its release would commit it."""
    with app.app_context():
        with savepoint():
            grant_role("u-inside", "compliance")
        grant_role("u-after", "compliance")
        db.session.rollback()
    assert stored_roles(app) == set()


def test_an_upsert_retried_after_a_concurrent_insert_updates_instead(app):
    def write(userid):
        """The first attempt read before another worker inserted the row, so it inserts too."""
        attempts.append(userid)
        if len(attempts) == 1 or db.session.get(Role, (userid, "compliance")) is None:
            db.session.add(Role(userid=userid, role="compliance"))
        return db.session.get(Role, (userid, "compliance"))

    attempts = []
    with app.app_context():
        grant_role("u-caller", "compliance")
        grant_role("u-raced", "compliance")  # the other worker's row
        db.session.commit()
        db.session.execute(text("UPDATE role SET role = 'manager' WHERE userid = 'u-caller'"))  # the caller's work
        assert upsert_retrying(write, "u-raced").userid == "u-raced"
        assert len(attempts) == 2
        db.session.commit()
    assert stored_roles(app) == {("u-caller", "manager"), ("u-raced", "compliance")}
