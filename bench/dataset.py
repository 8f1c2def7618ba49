"""The full-scale database of the performance budget, built once per set of parameters and kept.

    .venv/bin/python bench/dataset.py [--seed 20261126] [--contacts 100000] [--groups 2000] ...

Builds a SQLite file (WAL, as the app configures it) migrated to head with flask_migrate.upgrade(),
filled through the app's models with bulk inserts: 100,000 WeChat contacts followed by 50 advisors
(60 % linked to a trading profile, weekly asset snapshots for 90 days), 2,000 groups (20 of 500
members, the rest 20–100) with 90 days of daily snapshots, 10,000 materials whose versions are put in
the library's search index by the app's own `index_version`, and 1,000,000 shares and link opens.
The rows come from bench/generate.py. The file is kept under bench/.data/, named by a digest of the
parameters and of the code that shapes it (generator, this file, migrations): a rerun reuses it.
"""
import argparse
import contextlib
import hashlib
import io
import json
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import event, insert, text  # noqa: E402

from bench import generate  # noqa: E402
from sidebar import create_app  # noqa: E402
from sidebar.extensions import db  # noqa: E402
from sidebar.materials import samples  # noqa: E402
from sidebar.materials.search import index_version  # noqa: E402
from sidebar.materials.storage import storage  # noqa: E402
from sidebar.materials.uploads import accept  # noqa: E402
from sidebar.models import (AssetSnapshot, ClientProfile, ContactMobile, ExternalContact, Follow,  # noqa: E402
                            FollowUpNote, GroupChat, GroupMember, GroupSnapshot, LinkOpen, Material,
                            MaterialVersion, Role, Share, Staff, StoredFile, china_today, utcnow)

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "bench" / ".data"
SCALE = {"contacts": 100_000, "advisors": 50, "groups": 2_000, "big_groups": 20, "materials": 10_000,
         "events": 1_000_000, "notes": 30_000}
SHARE_PART = 0.7  # of the events, shares; the rest are opens of tracked links
CHUNK = 20_000
SHAPING_CODE = ("bench/generate.py", "bench/dataset.py", "migrations/versions")


def database(seed=20261126, log=print, **scale):
    """The path of the built database for these parameters, building it first if it is not there yet."""
    scale = {**SCALE, **scale}
    path = DATA / f"sidebar-{_digest(seed, scale)}.db"
    if not path.exists():
        DATA.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".building")
        for leftover in DATA.glob(partial.name + "*"):
            leftover.unlink()
        started = time.perf_counter()
        build(partial, seed, scale, log)
        partial.rename(path)
        log(f"built {path.name} in {time.perf_counter() - started:.0f} s")
    return path


def _digest(seed, scale):
    """A short digest of the parameters and of the code that shapes the data: a new one means rebuild."""
    digest = hashlib.sha256(json.dumps({"seed": seed, **scale}, sort_keys=True).encode())
    for name in SHAPING_CODE:
        for file in sorted((ROOT / name).rglob("*.py")) if (ROOT / name).is_dir() else [ROOT / name]:
            digest.update(file.read_bytes())
    return digest.hexdigest()[:12]


def build(path, seed, scale, log=print):
    """Create the schema in a new SQLite file and fill it; the WAL is folded back into the file at the end."""
    build_at(f"sqlite:///{path}", seed, scale, log)


def build_at(url, seed, scale, log=print):
    """Create the schema in the empty database at url (SQLite or PostgreSQL) and fill it."""
    sqlite = url.startswith("sqlite")
    app = create_app({"SIDEBAR_MODE": "test", "SIDEBAR_DATABASE_URL": url, "SIDEBAR_UPLOAD_DIR": str(DATA / "uploads")})
    with app.app_context():
        with contextlib.redirect_stderr(io.StringIO()):  # no migration chatter
            upgrade()
        db.engine.dispose()
        if sqlite:
            event.listen(db.engine, "connect", _large_cache)
        now = utcnow().replace(microsecond=0)
        _fill(seed, scale, now, china_today(), _progress(log))
        db.session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)" if sqlite else "ANALYZE"))
        db.session.commit()
        if not sqlite:
            _restart_sequences()
        db.engine.dispose()


def _restart_sequences():
    """PostgreSQL: each id sequence continues after the ids the bulk inserts gave explicitly."""
    for table in db.metadata.sorted_tables:
        column = table.columns.get("id")
        if column is not None and column.autoincrement and column.type.python_type is int:
            db.session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                                    f"COALESCE((SELECT MAX(id) FROM {table.name}), 0) + 1, false)"))
    db.session.commit()


def _large_cache(connection, _record):
    """1 GB of page cache while building: inserts into big indexes in random order stay off the disk."""
    connection.execute("PRAGMA cache_size=-1000000")


def _progress(log):
    """A logger that prefixes each step with the seconds since the build started."""
    started = time.perf_counter()
    return lambda message: log(f"  {time.perf_counter() - started:6.1f} s  {message}")


def _fill(seed, scale, now, today, log):
    """Every table of the world, in foreign-key order."""
    userids = generate.advisors(scale["advisors"])
    _insert(Staff, generate.staff(userids, seed, now))
    _insert(Role, [{"userid": userid, "role": role, "granted_at": now}
                   for userid, role in (("zhaomin", "content"), ("sunli", "compliance"), ("zhouqiang", "manager"))])
    contacts, follows, mobiles = generate.contacts(scale["contacts"], userids, seed, now)
    log(f"{_insert(ExternalContact, contacts)} contacts, {_insert(Follow, follows)} follows, "
        f"{_insert(ContactMobile, mobiles)} noted mobiles")
    profiles = generate.linked_profiles(contacts, seed, today - timedelta(days=1), now)
    groups, members, prospects = generate.groups(scale["groups"], scale["big_groups"], userids, contacts, follows,
                                                 seed, now)
    profiles += generate.unlinked_profiles(prospects, len(profiles), seed, today - timedelta(days=1), now)
    log(f"{_insert(ClientProfile, profiles)} profiles, "
        f"{_insert(AssetSnapshot, generate.asset_history(profiles, seed))} asset snapshots")
    clients = {p["external_userid"] for p in profiles if p["external_userid"]} | set(prospects)
    log(f"{_insert(GroupChat, groups)} groups, {_insert(GroupMember, members)} members, "
        f"{_insert(GroupSnapshot, generate.group_history(groups, members, clients, seed, today))} group snapshots")
    log(f"{_insert(FollowUpNote, generate.notes(follows, scale['notes'], seed, now))} notes")
    versions = _library(scale["materials"], seed, now, log)
    _share_history(scale["events"], follows, groups, versions, profiles, seed, now, log)


def _library(n, seed, now, log):
    """Materials and versions, each version put in the search index as the console's save does."""
    rows, versions = generate.materials(n, seed, now, _sample_files(now))
    _insert(Material, rows)
    _insert(MaterialVersion, versions)
    for version in db.session.scalars(db.select(MaterialVersion).order_by(MaterialVersion.id)):
        index_version(version)
    db.session.commit()
    log(f"{len(rows)} materials, {len(versions)} versions, indexed for search")
    return versions


def _sample_files(now):
    """Stored sample files (a poster, a video, a PDF, a cover) that the materials point at."""
    files = {}
    for kind, name, data in (("image", "poster.png", samples.png()), ("video", "intro.mp4", samples.mp4()),
                             ("file", "research.pdf", samples.pdf()), ("cover", "cover.png", samples.png(160, 120))):
        upload = accept("image" if kind == "cover" else kind, name, io.BytesIO(data))
        storage().put(upload.sha256, upload.data)
        if db.session.get(StoredFile, upload.sha256) is None:
            db.session.add(StoredFile(sha256=upload.sha256, size=len(upload.data), content_type=upload.content_type,
                                      extension=upload.extension, created_at=now))
        files[kind] = upload.sha256 if kind == "cover" else (upload.sha256, name)
    db.session.commit()
    return files


def _share_history(events, follows, groups, versions, profiles, seed, now, log):
    """Shares, then exactly the rest of `events` as opens of the opened tracked links."""
    kinds = dict(db.session.execute(db.select(Material.id, Material.kind)).all())
    risk_of = {p["external_userid"]: p["risk_level"] for p in profiles if p["external_userid"]}
    opened, count = [], int(events * SHARE_PART)
    log(f"{_insert(Share, generate.shares(count, follows, groups, versions, kinds, risk_of, seed, now, opened))} "
        f"shares")
    log(f"{_insert(LinkOpen, generate.link_opens(opened, events - count, seed, now))} link opens "
        f"(of {len(opened)} opened links)")


def _insert(model, rows):
    """Bulk insert of rows (any iterable) in chunks, one commit each; returns how many."""
    count, chunk = 0, []
    for row in rows:
        chunk.append(row)
        if len(chunk) == CHUNK:
            count += _flush(model, chunk)
    return count + _flush(model, chunk)


def _flush(model, chunk):
    """Insert and commit one chunk, then empty it; returns its size."""
    size = len(chunk)
    if chunk:
        # render_nulls: a None stays a NULL instead of splitting the chunk into one statement per key set
        db.session.execute(insert(model).execution_options(render_nulls=True), chunk)
        db.session.commit()
        chunk.clear()
    return size


def main():
    """Build (or find) the database and print its path."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=20261126)
    for name, value in SCALE.items():
        parser.add_argument("--" + name.replace("_", "-"), type=int, default=value)
    args = vars(parser.parse_args())
    seed = args.pop("seed")
    print(database(seed, **args))


if __name__ == "__main__":
    main()
