"""The client panel's throughput against /healthz under `gunicorn -w 2`, measured with wrk.

    .venv/bin/python bench/wrk.py [--duration 10] [--rounds 3]                  # SQLite
    scripts/with-postgres .venv/bin/python bench/wrk.py [--duration 10] ...     # PostgreSQL

The full-scale database of bench/dataset.py (a fresh copy of the SQLite file; on PostgreSQL the same
rows built into a new database of the server scripts/with-postgres started), the app in production
settings against the WeCom emulator, a signed-in advisor. wrk (Debian's package, written in C: it
takes a small share of the two cores, unlike a Python load generator) runs `-t2 -c8` for --duration
seconds per route, the routes alternating round by round after a warm-up: /healthz, then the
client panel cycling through 200 of the advisor's clients (htmx fragment, every view logged; after the
warm-up each worker answers from its kept copy, sidebar/memo.py), then the same panel cycling through
1,200 clients — more than a worker keeps (memo.SIZE), so every open is rendered as a first open (or the
first after a change) would be.
Budget (issue 19): the client panel keeps at least half of /healthz's requests/s; the first-open
figure is reported beside it.
"""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import requests  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.pool import NullPool  # noqa: E402

from bench import dataset  # noqa: E402
from bench.budget import Emulator, Gunicorn, fresh_copy, login, production_settings, targets  # noqa: E402
from sidebar import create_app, memo  # noqa: E402

SHARE = 1 / 2
FIRST_OPENS = 1200  # clients cycled through: each worker sees ~600 between two opens of one, over memo.SIZE
assert FIRST_OPENS / 2 > 2 * memo.SIZE
ROUND_ROBIN = """-- every request the next path of the file WRK_PATHS, with the advisor's session cookie
local paths, n = {}, 0
for line in io.lines(os.getenv("WRK_PATHS")) do paths[#paths + 1] = line end
local headers = {["Cookie"] = os.getenv("WRK_COOKIE"), ["HX-Request"] = "true"}
request = function()
  n = n + 1
  return wrk.format("GET", paths[n % #paths + 1], headers)
end
"""


def postgres_database(server_url, seed, scale):
    """A new database `bench_wrk` on the PostgreSQL server, filled with the full-scale rows; its URL."""
    admin = create_engine(server_url + "postgres", isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as conn:
        conn.execute(text("DROP DATABASE IF EXISTS bench_wrk WITH (FORCE)"))
        conn.execute(text("CREATE DATABASE bench_wrk"))
    url = server_url + "bench_wrk"
    print("building the full-scale database on PostgreSQL (a few minutes)…")
    dataset.build_at(url, seed, {**dataset.SCALE, **scale}, log=print)
    return url


def worker_cpu(server):
    """pid -> CPU seconds (user + system) each gunicorn worker has used so far."""
    master = server.process.pid
    used = {}
    for pid in Path(f"/proc/{master}/task/{master}/children").read_text().split():
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        except FileNotFoundError:  # recycled (max_requests) in between
            continue
        used[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime: proc(5)
    return used


def cpu_since(before, after):
    """CPU seconds the workers used between two worker_cpu() readings; None when a worker was recycled
    in between (its successor's start-up would count, the rest of its own work would not)."""
    if before.keys() != after.keys():
        return None
    return sum(after[pid] - before[pid] for pid in after)


def wrk(url, cookie, paths, duration, folder):
    """(requests/s, non-2xx responses, requests) of one wrk run over paths."""
    listing, script = Path(folder) / "paths.txt", Path(folder) / "round_robin.lua"
    listing.write_text("\n".join(paths) + "\n")
    script.write_text(ROUND_ROBIN)
    env = {**os.environ, "WRK_PATHS": str(listing), "WRK_COOKIE": cookie}
    out = subprocess.run(["wrk", "-t2", "-c8", f"-d{duration}s", "-s", str(script), url], env=env,
                         capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    done = int(re.search(r"(\d+) requests in", out).group(1))
    return rate, int(bad.group(1)) if bad else 0, done


def measure(settings, emulator, args):
    """(route -> requests/s of each round, route -> the workers' CPU ms per request of each round), under
    gunicorn -w 2. The CPU figure moves less with the neighbours' load than the rates do."""
    contacts, _groups = targets(create_app(settings), count=FIRST_OPENS)
    routes = {"healthz": ["/healthz"], "client": [f"/sidebar/contacts/{c}" for c in contacts[:200]],
              "first": [f"/sidebar/contacts/{c}" for c in contacts]}
    # Not recycled while measured: at these rates gunicorn.conf.py's max_requests restarts a worker every
    # few seconds, and the start-up would land in some round's rate and CPU figure.
    server = Gunicorn({**settings, "GUNICORN_CMD_ARGS": "--max-requests 0"}, dataset.DATA / "wrk-gunicorn.log",
                      workers=2)
    rates, cpu = {route: [] for route in routes}, {route: [] for route in routes}
    try:
        session = requests.Session()
        login(lambda path: session.get(server.url + path, allow_redirects=False, timeout=30), emulator.url)
        cookie = "sidebar_session=" + session.cookies["sidebar_session"]
        with tempfile.TemporaryDirectory() as folder:
            for paths in routes.values():  # warm every worker on both routes
                wrk(server.url, cookie, paths, 3, folder)
            for _ in range(args.rounds):
                for route, paths in routes.items():
                    wrk(server.url, cookie, paths, 2, folder)  # the first opens' run left other copies kept
                    used = worker_cpu(server)
                    rate, bad, done = wrk(server.url, cookie, paths, args.duration, folder)
                    assert bad == 0, f"{bad} answers to {route} were not 200"
                    rates[route].append(rate)
                    seconds = cpu_since(used, worker_cpu(server))
                    if seconds is not None:
                        cpu[route].append(seconds * 1000 / done)
        workers = server.workers() - server.restarts()
    finally:
        server.stop()
    assert workers == 2, f"{workers} workers"
    return rates, cpu


def report(engine, rates, cpu):
    """One line per engine: the medians, their ratio, PASS or MISS; the workers' CPU per request beside."""
    healthz, client = statistics.median(rates["healthz"]), statistics.median(rates["client"])
    ratio = client / healthz
    rounds = ", ".join(f"{c:.0f}/{h:.0f}" for c, h in zip(rates["client"], rates["healthz"]))
    verdict = "PASS" if ratio >= SHARE else "MISS"
    if cpu["healthz"] and cpu["client"]:  # rounds in which no worker was recycled
        cpu_healthz, cpu_client = statistics.median(cpu["healthz"]), statistics.median(cpu["client"])
        cpu_ratio = f"{cpu_healthz:.2f} / {cpu_client:.2f} = {cpu_healthz / cpu_client:.2f}"
    else:
        cpu_ratio = "—"
    first = statistics.median(rates["first"])
    cpu_first = f"{statistics.median(cpu['first']):.2f}" if cpu["first"] else "—"
    print(f"| {engine} | {healthz:.0f} | {client:.0f} | {ratio:.2f} ({rounds}) | {verdict} (≥ {SHARE:.2f}) "
          f"| {cpu_ratio} | {first:.0f} = {first / healthz:.2f}, {cpu_first} ms | {os.getloadavg()[0]:.1f} |")
    return ratio >= SHARE


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=20261126)
    for name, value in dataset.SCALE.items():
        parser.add_argument("--" + name.replace("_", "-"), type=int, default=value)
    args = parser.parse_args()
    scale = {name: getattr(args, name) for name in dataset.SCALE}
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install wrk (make bench installs it)")
    server = os.environ.get("SIDEBAR_TEST_POSTGRES")
    emulator = Emulator()
    try:
        if server:
            engine, url = "PostgreSQL", postgres_database(server, args.seed, scale)
        else:
            engine, url = "SQLite", "sqlite:///" + str(fresh_copy(dataset.database(args.seed, **scale)))
        settings = {**production_settings("unused", emulator.url), "SIDEBAR_DATABASE_URL": url}
        rates, cpu = measure(settings, emulator, args)
    finally:
        emulator.stop()
    print(f"\nwrk -t2 -c8, gunicorn -w 2, {args.rounds} rounds of {args.duration} s per route (client/healthz each round)")
    print("| database | /healthz req/s | client panel req/s | ratio | budget | workers' CPU ms a request, "
          "/healthz / client | first opens req/s = ratio, CPU | load |\n|---|---|---|---|---|---|---|---|")
    sys.exit(0 if report(engine, rates, cpu) else 1)


if __name__ == "__main__":
    main()
