"""Benchmark of the trading-system import: N profiles through import_profiles and through the HTTP API.

    .venv/bin/python bench/import_profiles.py [--n 10000] [--seed 20261126] [--rounds 3]

Each round runs every pass against fresh SQLite files (WAL, as the app configures it), migrated
to head; the best and the median time of the rounds are printed.
"""
import argparse
import contextlib
import io
import json
import os
import statistics
import sys
import tempfile
import time
import warnings
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import insert  # noqa: E402

from bench.generate import profiles  # noqa: E402
from sidebar import create_app  # noqa: E402
from sidebar.extensions import db  # noqa: E402
from sidebar.models import ContactMobile, ExternalContact  # noqa: E402
from sidebar.models import china_today  # noqa: E402
from sidebar.sync.profiles import import_profiles  # noqa: E402

TOKEN = "bench-token-" + "x" * 24


def fresh_app(folder, name):
    """An app on a new SQLite file in folder, migrated, with the import API on."""
    app = create_app({"SIDEBAR_MODE": "test", "SIDEBAR_DATABASE_URL": f"sqlite:///{folder}/{name}.db",
                      "SIDEBAR_IMPORT_TOKEN": TOKEN})
    with app.app_context(), contextlib.redirect_stderr(io.StringIO()):  # no migration chatter
        upgrade()
    return app


def seed_contacts(app, rows):
    """WeCom contacts for a third of the profiles (by unionid, or by a noted mobile), so linking works."""
    contacts, mobiles = [], []
    for number, row in enumerate(rows[::3]):
        external_userid = f"wmbench{number:020d}"
        contacts.append({"external_userid": external_userid, "name": row["name"], "unionid": row["unionid"]})
        if row["mobile"]:
            mobiles.append({"mobile": row["mobile"], "external_userid": external_userid})
    with app.app_context():
        db.session.execute(insert(ExternalContact), contacts)
        if mobiles:
            db.session.execute(insert(ContactMobile), mobiles)
        db.session.commit()


def timed(times, label, work):
    """Run work(), add its duration under label, return its result."""
    start = time.perf_counter()
    result = work()
    times.setdefault(label, []).append(time.perf_counter() - start)
    return result


def direct(app, rows, today):
    """import_profiles in the app's context; the accepted count."""
    with app.app_context():
        result = import_profiles(rows, today=today)
    assert not result.rejected, result.rejected[:3]
    return result.accepted


def next_day(rows, as_of):
    """The daily feed a day later: every funded account has a new asset figure."""
    day = (as_of + timedelta(days=1)).isoformat()
    return [{**row, "total_assets": round(row["total_assets"] * 1.01, 2), "assets_as_of": day}
            if row["total_assets"] is not None else row for row in rows]


def run_once(folder, rows, as_of, times):
    """One round of every pass, each on fresh SQLite files in folder."""
    today = as_of + timedelta(days=2)
    app = fresh_app(folder, "direct")
    seed_contacts(app, rows)
    timed(times, "import_profiles, empty database", lambda: direct(app, rows, today))
    timed(times, "import_profiles, same rows again (no change)", lambda: direct(app, rows, today))
    following = next_day(rows, as_of)
    timed(times, "import_profiles, next day (assets changed)", lambda: direct(app, following, today))
    api = fresh_app(folder, "api")
    seed_contacts(api, rows)
    client, body = api.test_client(), json.dumps(rows, ensure_ascii=False).encode()
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    for label in ("POST /api/v1/client-profiles, empty database", "POST /api/v1/client-profiles, same rows again"):
        response = timed(times, label, lambda: client.post("/api/v1/client-profiles", data=body, headers=headers))
        assert response.status_code == 200 and response.get_json()["accepted"] == len(rows), response.data[:300]


def main():
    """Generate, import, re-send, import via HTTP, a few rounds; print the best and median figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=20261126)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    warnings.simplefilter("error")
    as_of = china_today() - timedelta(days=2)  # in the past on any clock, so every generated row is valid
    times = {}
    rows = timed(times, "generate", lambda: profiles(args.n, args.seed, as_of))
    size = len(json.dumps(rows, ensure_ascii=False).encode()) / 1e6
    print(f"{args.n} profiles ({size:.1f} MB as JSON), SQLite, {os.cpu_count()} CPUs, "
          f"best and median of {args.rounds} rounds")
    for _ in range(args.rounds):
        with tempfile.TemporaryDirectory() as folder:
            run_once(folder, rows, as_of, times)
    for label, seconds in times.items():
        best, median = min(seconds), statistics.median(seconds)
        print(f"{label:<46} {best:6.2f} s {args.n / best:8,.0f} rows/s   median {median:6.2f} s")


if __name__ == "__main__":
    main()
