"""Benchmark of group insight: the panel of a 500-member group, and the daily snapshot of every group.

    .venv/bin/python bench/group_panel.py [--groups 2000] [--members 100] [--renders 200]

Builds a fresh SQLite file (WAL, as the app configures it): `--groups` groups of `--members`
external members each plus one group of 500, half of the members matched to a trading profile,
a quarter of the big group's members followed by its owner, 90 days of snapshots for the big group.
Then times the panel as the server builds it for the owner (the service and the fragment's template,
no HTTP) and prints p50/p99, and times `record_snapshots()` over every group.
"""
import argparse
import contextlib
import io
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flask import g, render_template  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import insert  # noqa: E402

from sidebar import create_app  # noqa: E402
from sidebar.extensions import db, wecom  # noqa: E402
from sidebar.insight.group import group_panel  # noqa: E402
from sidebar.domain.access import find_group  # noqa: E402
from sidebar.insight.snapshot import record_snapshots  # noqa: E402
from sidebar.models import (ClientProfile, ExternalContact, Follow, GroupChat, GroupMember,  # noqa: E402
                            GroupSnapshot, Staff, china_today, utcnow)

BIG = "wrbenchbig"
OWNER = "benchowner"


def build(app, groups, members):
    """The groups, members, profiles, follows and the big group's history."""
    now, today = utcnow(), china_today()
    sizes = {BIG: 499, **{f"wrbench{n:05d}": members for n in range(groups)}}
    with app.app_context():
        db.session.add(Staff(userid=OWNER, name="基准", department=[3]))
        db.session.execute(insert(GroupChat), [{"chat_id": chat_id, "name": chat_id, "owner": OWNER,
                                                "created_at": now - timedelta(days=120), "fetched_at": now}
                                               for chat_id in sizes])
        for number, (chat_id, size) in enumerate(sizes.items()):
            ids = [f"wm{chat_id}{i:04d}" for i in range(size)]
            db.session.execute(insert(GroupMember), [
                {"chat_id": chat_id, "member_id": member_id, "type": 2, "name": f"成员{i}", "unionid": f"o{member_id}",
                 "joined_at": now - timedelta(days=i % 90), "is_admin": False} for i, member_id in enumerate(ids)]
                + [{"chat_id": chat_id, "member_id": OWNER, "type": 1, "is_admin": False}])
            db.session.execute(insert(ClientProfile), [
                {"account_id": f"88{number:05d}{i:04d}", "unionid": f"o{member_id}",
                 "stage": ("registered", "opened", "funded", "traded")[i % 4],
                 "stage_dates": {"opened": (today - timedelta(days=i % 60)).isoformat()}, "risk_level": "C3",
                 "risk_expires": today + timedelta(days=200), "total_assets": Decimal(1000 * i), "asset_mix": {},
                 "tags": [], "updated_at": now} for i, member_id in enumerate(ids) if i % 2 == 0])
        followed = [f"wm{BIG}{i:04d}" for i in range(0, 499, 4)]
        db.session.execute(insert(ExternalContact), [{"external_userid": e, "name": e} for e in followed])
        db.session.execute(insert(Follow), [{"userid": OWNER, "external_userid": e, "remark_mobiles": [], "tags": []}
                                            for e in followed])
        db.session.execute(insert(GroupSnapshot), [
            {"chat_id": BIG, "day": today - timedelta(days=d), "members": 500, "staff": 1, "externals": 499,
             "clients": 200, "opened": 150, "funded": 100, "client_assets": Decimal(10_000_000),
             "recorded_at": now} for d in range(1, 91)])
        db.session.commit()
    return sum(sizes.values())


def time_panel(app, renders):
    """Seconds per build-and-render of the big group's panel fragment, for the owner."""
    times = []
    with app.test_request_context("/sidebar/groups/" + BIG):
        g.userid = OWNER
        for _ in range(renders):
            started = time.perf_counter()
            panel = group_panel(find_group(wecom(), OWNER, BIG), OWNER)
            render_template("insight/_group.html", panel=panel)
            times.append(time.perf_counter() - started)
    return times


def main():
    """Build the data, then print the timings."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, default=2000)
    parser.add_argument("--members", type=int, default=100)
    parser.add_argument("--renders", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        app = create_app({"SIDEBAR_MODE": "test", "SIDEBAR_DATABASE_URL": f"sqlite:///{folder}/bench.db"})
        with app.app_context(), contextlib.redirect_stderr(io.StringIO()):  # no migration chatter
            upgrade()
        members = build(app, args.groups, args.members)
        print(f"{args.groups + 1} groups, {members} members")
        times = sorted(time_panel(app, args.renders))
        p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
        print(f"group panel, 500 members: p50 {statistics.median(times) * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms")
        with app.app_context():
            started = time.perf_counter()
            count = record_snapshots()
            print(f"record_snapshots: {count} groups in {time.perf_counter() - started:.2f} s")


if __name__ == "__main__":
    main()
