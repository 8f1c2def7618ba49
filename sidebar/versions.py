"""Data versions: counters raised after every commit that wrote a kind of data, or one part of it.

What is computed from local data (a rendered panel) can be kept while the counters of what it read
are unchanged: the counters live in the database, so every worker and host sees a change. Any write
through the app's session counts — objects flushed and ORM insert/update/delete statements alike —
so no writer has to remember to raise them.

Names: a write raises each kind its table is part of (`follows`) and, where its rows say whose they
are, that part (`follows:zhangwei`, `clients:wmAbc…`, `groups:wrOgQh…`); a statement whose rows are
not known (a bulk update) raises `follows:*` instead. A reader of one part reads `kind:<part>` and `kind:*`; of the whole kind, `kind`.
So a callback about one advisor's contact leaves every other advisor's copies in use.

Why after the commit, not in the same transaction: a counter row written inside every writer's
transaction would serialise them all (and deadlock two that take counters in different orders).
A reader reads the counters before the data, so a copy is only ever kept under counters older than
every change it lacks, and the raise right after that change's commit makes the copy unused.
"""
import logging

from flask_sqlalchemy.session import Session
from sqlalchemy import bindparam, event, exists, inspect, literal, select, union_all
from sqlalchemy.exc import SQLAlchemyError

from .database import upsert
from .extensions import db
from .models import (AssetSnapshot, Channel, ChannelArrival, ClientProfile, DataVersion, Department, ExternalContact,
                     Follow, FollowUpNote, GroupChat, GroupMember, GroupSnapshot, LinkOpen, Material, MaterialScene,
                     MaterialVersion, Role, Share, SopTask, Staff)

log = logging.getLogger(__name__)

GROUPS, PROFILES, FOLLOWS, STAFF, MATERIALS = "groups", "profiles", "follows", "staff", "materials"
SOP = "sop"  # SOP tasks, by chat: a panel shows 今日SOP when one is due (the tick's inserts are bulk: sop:*)
CLIENTS = "clients"  # what a client panel shows of one client, by external_userid
ASSETS, CHANNELS = "assets", "channels"  # daily asset snapshots (the import's); channel names (来源)
# table -> (kind, the column naming the part a row belongs to, or None for a kind read whole), ...
KINDS_OF_TABLE = {
    GroupChat.__tablename__: ((GROUPS, "chat_id"),), GroupMember.__tablename__: ((GROUPS, "chat_id"),),
    GroupSnapshot.__tablename__: ((GROUPS, "chat_id"),),
    ClientProfile.__tablename__: ((PROFILES, None), (CLIENTS, "external_userid")),
    Follow.__tablename__: ((FOLLOWS, "userid"), (CLIENTS, "external_userid")),
    # a contact panel's 来源 is part of what it shows of the follow
    ChannelArrival.__tablename__: ((FOLLOWS, "userid"), (CLIENTS, "external_userid")),
    Channel.__tablename__: ((CHANNELS, None),),
    ExternalContact.__tablename__: ((CLIENTS, "external_userid"),),
    FollowUpNote.__tablename__: ((CLIENTS, "external_userid"),),
    Share.__tablename__: ((CLIENTS, "target_id"),),  # a group's shares name the chat: a part nobody reads
    AssetSnapshot.__tablename__: ((ASSETS, None),),
    Staff.__tablename__: ((STAFF, None),), Role.__tablename__: ((STAFF, None),),
    Department.__tablename__: ((STAFF, None),),
    Material.__tablename__: ((MATERIALS, None),), MaterialVersion.__tablename__: ((MATERIALS, None),),
    MaterialScene.__tablename__: ((MATERIALS, None),),
    SopTask.__tablename__: ((SOP, "chat_id"),),
}
# Tables whose rows do not say whose they are: their one writer notes the part itself (note()); a
# statement on one that was not so noted counts for the whole kind.
NOTED_BY_WRITER = {LinkOpen.__tablename__: CLIENTS}  # materials.tracking._record_open: the share's client
NOTED = "versions_noted"  # an execution option: the statement's writer noted its parts itself
WRITTEN = "sidebar_written_versions"  # session.info key: names written in the open transaction
_FOUND = ""  # current_where's row saying the condition held: no counter has this name
_READ = select(DataVersion.name, DataVersion.version).where(DataVersion.name.in_(bindparam("names", expanding=True)))


def of(kind, key):
    """The name of one part of a kind."""
    return f"{kind}:{key}"


def part(kind, key):
    """The names a reader of one part of a kind reads: that part, and writes to unknown parts."""
    return (of(kind, key), f"{kind}:*")


def current(names):
    """(version of each name, in the order given), in one statement; 0 for a name never raised."""
    rows = db.session.connection().execute(_READ, {"names": list(names)}).tuples().all()  # no ORM: a hot path
    return _in_order(rows, names)


def read_where(condition):
    """The statement current_where runs: the counters' read, and a row of its own when the select
    `condition` finds one (built once, by its caller: building it costs more than running it)."""
    found = exists(condition)
    return union_all(_READ.where(found), select(literal(_FOUND), literal(0)).where(found))


def current_where(names, statement, **params):
    """current(names) when read_where's condition finds a row, else None: both in one statement.

    For a kept panel, whose every open is authorised first: the check and the versions of its copy
    cost one round trip, not two.
    """
    rows = db.session.connection().execute(statement, {"names": list(names), **params}).tuples().all()
    return _in_order(rows, names) if rows else None


def _in_order(rows, names):
    """The versions of (name, version) rows in the order of names; 0 for a name never raised."""
    versions = dict(rows)
    return tuple(versions.get(name, 0) for name in names)


def raise_versions(connection, names):
    """Raise each counter by one (inserting it at 1), in one order for every writer: two never deadlock."""
    for name in sorted(names):
        connection.execute(upsert(connection, DataVersion).values(name=name, version=1).on_conflict_do_update(
            index_elements=[DataVersion.name], set_={"version": DataVersion.version + 1}))


def note(session, names):
    """Remember names as written in the session's transaction (raised when it commits).

    For a write whose rows do not say whose they are (a link's open names only its share).
    """
    if names:
        session.info.setdefault(WRITTEN, set()).update(names)


def _names_of_object(obj):
    """The kinds of a flushed object and the parts it was in, before and after the change."""
    names = set()
    for kind, column in KINDS_OF_TABLE.get(obj.__table__.name, ()):
        names.add(kind)
        if column is not None:  # a row moved to another part changes both
            history = inspect(obj).attrs[column].history
            names.update(of(kind, key) for key in (history.sum() or [getattr(obj, column)]))
    return names


def _flushed(session, _context):
    """Objects added, changed or deleted (the lists still hold them after the flush)."""
    changed = [obj for obj in session.dirty if session.is_modified(obj)]  # not those set to the same values
    note(session, {name for group in (session.new, changed, session.deleted) for obj in group
                    for name in _names_of_object(obj)})


def _executed(state):
    """insert/update/delete statements on a model (e.g. bulk updates by primary key): parts unknown.

    Run here to see how many rows they wrote: one that matched no row (a link by mobile that found
    no profile) changes nothing.
    """
    if not (state.is_insert or state.is_update or state.is_delete) or state.bind_mapper is None:
        return None
    if state.execution_options.get(NOTED):  # its writer noted the parts it writes (note())
        return None
    table = state.bind_mapper.local_table.name
    kinds = ((NOTED_BY_WRITER[table], None),) if table in NOTED_BY_WRITER else KINDS_OF_TABLE.get(table)
    if kinds is None:
        return None
    result = state.invoke_statement()
    if getattr(result, "rowcount", -1) != 0:  # not known (-1, or a bulk run by primary key) counts as written
        note(state.session, {name for kind, _ in kinds for name in (kind, f"{kind}:*")})
    return result


def _committed(session):
    """Raise the counters of what the transaction wrote, in a transaction of their own."""
    if session.in_nested_transaction():
        return  # a savepoint released (database.savepoint): counted when its transaction commits
    names = session.info.pop(WRITTEN, None)
    if not names:
        return
    try:
        with session.get_bind().begin() as connection:
            raise_versions(connection, names)
    except SQLAlchemyError:  # the data is committed; copies then expire by age only
        log.exception("could not raise the data versions of %s", sorted(names))


def _rolled_back(session):
    """What the transaction wrote is gone with it."""
    if session.in_nested_transaction():
        return  # only a savepoint's writes are gone; counting the caller's with them costs a refresh at most
    session.info.pop(WRITTEN, None)


LISTENERS = (("after_flush", _flushed), ("do_orm_execute", _executed), ("after_commit", _committed),
             ("after_rollback", _rolled_back))


def init_app(_app):
    """Count every session's writes from now on; the listeners are on the session class, added once a process."""
    for name, listener in LISTENERS:
        if not event.contains(Session, name, listener):
            event.listen(Session, name, listener)
