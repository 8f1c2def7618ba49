"""Data versions: a counter per kind of data, raised after every commit that wrote that kind.

What is computed from local data (a rendered panel) can be kept while the counters of the kinds it
read are unchanged: the counters live in the database, so every worker and host sees a change.
Any write through the app's session counts — objects flushed and ORM insert/update/delete
statements alike — so no writer has to remember to raise them.

Why after the commit, not in the same transaction: a counter row written inside every writer's
transaction would serialise them all (and deadlock two that take two counters in different orders).
A reader reads the counters before the data, so a copy is only ever kept under counters older than
every change it lacks, and the raise right after that change's commit makes the copy unused.
"""
import logging

from flask_sqlalchemy.session import Session
from sqlalchemy import event, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from .extensions import db
from .models import (ClientProfile, DataVersion, Follow, GroupChat, GroupMember, GroupSnapshot, Material,
                     MaterialVersion, Role, Staff)

log = logging.getLogger(__name__)

GROUPS, PROFILES, FOLLOWS, STAFF, MATERIALS = "groups", "profiles", "follows", "staff", "materials"
KIND_OF_TABLE = {
    GroupChat.__tablename__: GROUPS, GroupMember.__tablename__: GROUPS, GroupSnapshot.__tablename__: GROUPS,
    ClientProfile.__tablename__: PROFILES, Follow.__tablename__: FOLLOWS,
    Staff.__tablename__: STAFF, Role.__tablename__: STAFF,
    Material.__tablename__: MATERIALS, MaterialVersion.__tablename__: MATERIALS,
}
WRITTEN = "sidebar_written_kinds"  # session.info key: kinds written in the open transaction
_READ_ALL = select(DataVersion.name, DataVersion.version)


def current(kinds):
    """(version of each kind, in the order given), read in one statement; 0 for a kind never written."""
    versions = dict(db.session.execute(_READ_ALL).tuples().all())
    return tuple(versions.get(kind, 0) for kind in kinds)


def raise_version(engine, kind):
    """Raise the counter of one kind by one, in a transaction of its own (a lock held for one statement)."""
    with engine.begin() as connection:
        raised = connection.execute(update(DataVersion).where(DataVersion.name == kind)
                                    .values(version=DataVersion.version + 1))
        if raised.rowcount == 0:  # the first write of this kind ever
            connection.execute(insert(DataVersion).values(name=kind, version=1))


def _note(session, tables):
    """Remember the kinds of data these tables hold as written in the session's transaction."""
    kinds = {KIND_OF_TABLE[name] for name in tables if name in KIND_OF_TABLE}
    if kinds:
        session.info.setdefault(WRITTEN, set()).update(kinds)


@event.listens_for(Session, "after_flush")
def _flushed(session, _context):
    """Objects added, changed or deleted (the lists still hold them after the flush)."""
    changed = [obj for obj in session.dirty if session.is_modified(obj)]  # not those set to the same values
    _note(session, {obj.__table__.name for group in (session.new, changed, session.deleted) for obj in group})


@event.listens_for(Session, "do_orm_execute")
def _executed(state):
    """insert/update/delete statements on a model, e.g. bulk updates by primary key."""
    if (state.is_insert or state.is_update or state.is_delete) and state.bind_mapper is not None:
        _note(state.session, {state.bind_mapper.local_table.name})


@event.listens_for(Session, "after_commit")
def _committed(session):
    """Raise the counters of what the transaction wrote, on a connection of its own."""
    for kind in sorted(session.info.pop(WRITTEN, ())):
        try:
            raise_version(session.get_bind(), kind)
        except SQLAlchemyError:  # the data is committed; copies then expire by age only
            log.exception("could not raise the data version of %s", kind)


@event.listens_for(Session, "after_rollback")
def _rolled_back(session):
    """What the transaction wrote is gone with it."""
    session.info.pop(WRITTEN, None)
