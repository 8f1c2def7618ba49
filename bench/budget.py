"""The performance budget of design.md, measured on the full-scale database: one command, a table.

    .venv/bin/python bench/budget.py [--requests 300] [--duration 6] [--rounds 3] [--clients 12]

1. In process: the app in production mode (Flask test client, a signed-in advisor, the real routes:
   login check, authorisation, queries, template) — p50/p99 of the client panel, the panel of a
   500-member group, a library search, and /healthz for reference, with the CPU time per request
   and the SQL statements of one request. Budget: p99 < 25 ms each. The two panels and the library
   are timed again with nothing kept (sidebar/memo.py), as the first open after a change of
   their data finds them.
2. Under gunicorn (`gunicorn wsgi:app -c gunicorn.conf.py` on a loopback port, workers from the
   conf) with concurrent clients in other processes: requests/s of the same four routes in one run.
   Budget: each insight view reaches at least 1/3 of /healthz's throughput.
3. The WeCom emulator's call log across warm opens (shell, both JS-SDK signatures, panel, library)
   against gunicorn. Budget: 0 calls.
4. Page weight of a first open (shell HTML, our CSS and JS, the larger of the two panel fragments),
   gzip -6 each, the vendored htmx and JS-SDK listed apart. Budget: < 30 KB.

The database comes from bench/dataset.py (built once, then copied fresh for every run); the app
talks to the WeCom emulator on its own loopback port, logged in through the real OAuth round trip.
Exit status 1 when a budget is missed.
"""
import argparse
import gc
import gzip
import http.client
import logging
import multiprocessing
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import requests  # noqa: E402
from sqlalchemy import event, func  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from bench import dataset  # noqa: E402
from bench.generate import BENCH_ADVISOR  # noqa: E402
from sidebar import create_app  # noqa: E402
from sidebar.config import EMULATED_CORP  # noqa: E402
from sidebar.emulator import create_emulator  # noqa: E402
from sidebar.database import checkpoint_in_background  # noqa: E402
from sidebar.extensions import db  # noqa: E402
from sidebar.memo import MemoryCache  # noqa: E402
from sidebar.models import ClientProfile, Follow, GroupChat, GroupMember  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
P99_BUDGET_MS = 25
THROUGHPUT_SHARE = 1 / 3
PAGE_BUDGET_KB = 30
FRAGMENT = {"HX-Request": "true"}  # the panels and the library are loaded by htmx
# Words advisors type: two characters fall back to LIKE, three and more use the trigram index.
SEARCH_WORDS = ("基金", "ETF", "开户", "定投", "两融", "红利低波", "科技成长", "新能源", "沪深300", "一文看懂", "产品说明书",
                "国债逆回购")
ROUTES = ("trivial", "client", "group", "library")
LABELS = {"trivial": "GET /healthz (reference)", "client": "client insight", "group": "group insight, 500 members",
          "library": "library search"}


# -- the parts: database, emulator, settings ------------------------------------------------------

def fresh_copy(master):
    """A copy of the built database for this run: what a run writes (access log, tokens) never adds up."""
    run = master.with_name("budget-run.db")
    for leftover in master.parent.glob("budget-run.db*"):
        leftover.unlink()
    shutil.copyfile(master, run)
    return run


class Emulator:
    """The WeCom emulator on a threaded loopback HTTP server, for the app's server-side calls and OAuth."""

    def __init__(self):
        self.app = create_emulator(corp_id=EMULATED_CORP["WECOM_CORP_ID"], agent_id=EMULATED_CORP["WECOM_AGENT_ID"],
                                   secret=EMULATED_CORP["WECOM_SECRET"])
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request in the report
        self._server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def calls(self):
        """{path: count} of the API calls since the last clear."""
        return requests.get(f"{self.url}/_admin/calls", timeout=5).json()["counts"]

    def clear_calls(self):
        """Forget the call log."""
        requests.delete(f"{self.url}/_admin/calls", timeout=5).raise_for_status()

    def stop(self):
        """Stop serving."""
        self._server.shutdown()


def production_settings(database, emulator_url):
    """The app's environment in production mode, pointed at the emulated corp."""
    return {"SIDEBAR_MODE": "production", "SIDEBAR_DATABASE_URL": f"sqlite:///{database}",
            "SIDEBAR_SECRET_KEY": "bench-secret-key-" + "x" * 32, "SIDEBAR_UPLOAD_DIR": str(dataset.DATA / "uploads"),
            "WECOM_CORP_ID": EMULATED_CORP["WECOM_CORP_ID"], "WECOM_AGENT_ID": EMULATED_CORP["WECOM_AGENT_ID"],
            "WECOM_SECRET": EMULATED_CORP["WECOM_SECRET"], "WECOM_API_BASE": emulator_url,
            "WECOM_OAUTH_BASE": emulator_url, "SIDEBAR_PUBLIC_URL": "http://127.0.0.1"}  # logins use the return's path


def targets(app, count=200):
    """(contacts, groups): the advisor's followed contacts that have a profile, their 500-member groups."""
    with app.app_context():
        contacts = db.session.scalars(db.select(Follow.external_userid)
                                      .join(ClientProfile, ClientProfile.external_userid == Follow.external_userid)
                                      .where(Follow.userid == BENCH_ADVISOR, Follow.ended_at.is_(None))
                                      .order_by(Follow.external_userid).limit(count)).all()
        groups = db.session.scalars(db.select(GroupChat.chat_id).join(GroupMember)
                                    .where(GroupChat.owner == BENCH_ADVISOR, GroupMember.left_at.is_(None))
                                    .group_by(GroupChat.chat_id).having(func.count() == 500)).all()
    assert contacts and groups, "the database has no contact or 500-member group of the bench advisor"
    return contacts, groups


def paths(contacts, groups):
    """Route -> the request paths a run cycles through."""
    return {
        "trivial": ["/healthz"],
        "client": [f"/sidebar/contacts/{c}" for c in contacts],
        "group": [f"/sidebar/groups/{g}" for g in groups],
        "library": [f"/sidebar/materials?chat=contact:{c}&q={quote(SEARCH_WORDS[n % len(SEARCH_WORDS)])}"
                    for n, c in enumerate(contacts)],
    }


def login(get, emulator_url):
    """The OAuth round trip with the emulator as 张伟; get(path) must keep the session's cookie."""
    start = get("/sidebar/")
    assert start.status_code == 302 and start.headers["Location"].startswith(emulator_url), start.status_code
    code = requests.get(start.headers["Location"], cookies={"wecom_userid": BENCH_ADVISOR}, allow_redirects=False,
                        timeout=10)
    back = urlsplit(code.headers["Location"])
    done = get(f"{back.path}?{back.query}")
    assert done.status_code == 302, done.status_code
    # On to the shell, as the browser goes: it puts the session's CSRF secret into the cookie, which a
    # cookie taken before it lacks (every panel would then write a new cookie).
    shell = get(urlsplit(done.headers["Location"]).path)
    assert shell.status_code == 200, shell.status_code


# -- 1. in process --------------------------------------------------------------------------------

def in_process(settings, route_paths, emulator_url, requests_each, warmup=20):
    """route -> (ms of each request, CPU ms of each, SQL statements of one request); library times by word."""
    app = create_app(settings)
    checkpoint_in_background(app)  # as gunicorn.conf.py does in each worker
    client = app.test_client()
    login(lambda path: client.get(path), emulator_url)
    for route in ROUTES:
        for number in range(warmup):
            _checked(client.get(route_paths[route][number % len(route_paths[route])], headers=FRAGMENT))
    gc.collect()
    gc.freeze()  # as gunicorn.conf.py does once a worker has loaded the app
    results = {}
    for route in ROUTES:
        cycle = route_paths[route]
        times, cpu = [], []
        for number in range(requests_each):
            started, thread_started = time.perf_counter(), time.thread_time()
            _checked(client.get(cycle[number % len(cycle)], headers=FRAGMENT))
            times.append((time.perf_counter() - started) * 1000)
            cpu.append((time.thread_time() - thread_started) * 1000)
        results[route] = (times, cpu, _statements(app, client, cycle[0]))
    split = _by_word_length(client, route_paths["library"], requests_each)
    split.update(_without_copies(app, client, route_paths, requests_each // 3))
    return results, split


def _without_copies(app, client, route_paths, count):
    """The panels and the library as the first open after a change finds them: nothing kept yet."""
    routes = ("client", "group", "library")
    timed = {f"{route}, nothing kept (after a change)": [] for route in routes}
    for label, route in zip(timed, routes):
        for number in range(count):
            app.extensions["memo"] = MemoryCache()  # what any change of the data they read amounts to
            started = time.perf_counter()
            _checked(client.get(route_paths[route][number % len(route_paths[route])], headers=FRAGMENT))
            timed[label].append((time.perf_counter() - started) * 1000)
    return timed


def _checked(response):
    """The response, which must be a 200."""
    assert response.status_code == 200, (response.status_code, response.get_data(as_text=True)[:300])
    return response


def _statements(app, client, path):
    """How many SQL statements one request sends."""
    statements = []
    listener = (lambda *args: statements.append(args[2]))
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            _checked(client.get(path, headers=FRAGMENT))
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
    return len(statements)


def _by_word_length(client, library_paths, requests_each):
    """Library search times split by words the index serves (3+ characters) and LIKE ones (1–2)."""
    split = {"library, 1–2 characters (LIKE)": [], "library, 3+ characters (FTS5 trigram)": []}
    for number in range(requests_each):
        path = library_paths[number % len(library_paths)]
        word = unquote(path.rpartition("q=")[2])
        started = time.perf_counter()
        _checked(client.get(path, headers=FRAGMENT))
        key = "library, 1–2 characters (LIKE)" if len(word) < 3 else "library, 3+ characters (FTS5 trigram)"
        split[key].append((time.perf_counter() - started) * 1000)
    return split


def percentile(values, share):
    """The value below which `share` of the sorted values lie (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


# -- 2. under gunicorn ----------------------------------------------------------------------------

class Gunicorn:
    """`gunicorn wsgi:app -c gunicorn.conf.py` on a free loopback port, in production settings."""

    def __init__(self, settings, log_path, workers=None):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        # its own origin: the JS-SDK signs only pages of SIDEBAR_PUBLIC_URL, required in production
        env = {**os.environ, **settings, "GUNICORN_BIND": f"127.0.0.1:{self.port}", "SIDEBAR_PUBLIC_URL": self.url}
        env.pop("WEB_CONCURRENCY", None)  # by default the workers the conf derives from the cores
        if workers:
            env["WEB_CONCURRENCY"] = str(workers)
        self.log_path = log_path
        self._log = open(log_path, "w")
        self.process = subprocess.Popen([str(Path(sys.executable).with_name("gunicorn")), "wsgi:app",
                                         "-c", "gunicorn.conf.py"], cwd=ROOT, env=env, stdout=self._log,
                                        stderr=subprocess.STDOUT)
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self, timeout=60):
        """Wait until every worker has booted and /healthz answers."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, Path(self.log_path).read_text()[-2000:]
            try:
                if requests.get(self.url + "/healthz", timeout=2).status_code == 200 and self.workers() > 0:
                    time.sleep(2)  # the other workers finish importing the app
                    return
            except requests.RequestException:  # not listening yet, or no worker booted yet
                pass
            time.sleep(0.3)
        raise RuntimeError("gunicorn did not start: " + Path(self.log_path).read_text()[-2000:])

    def workers(self):
        """How many workers booted so far (from the log)."""
        return Path(self.log_path).read_text().count("Booting worker")

    def restarts(self):
        """How many workers were recycled (max_requests) so far."""
        return Path(self.log_path).read_text().count("Autorestarting worker")

    def stop(self):
        """Graceful shutdown."""
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=40)
        self._log.close()


def _free_port():
    """A loopback port nobody listens on right now."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _client_process(port, cookie, cycle, threads, duration, queue):
    """One load-generating process: `threads` clients requesting `cycle` paths round robin until the deadline."""
    deadline = time.monotonic() + duration
    counts, lock = {"ok": 0, "errors": 0, "latencies": []}, threading.Lock()
    headers = {"Cookie": cookie, **FRAGMENT}

    def run(offset):
        number = offset
        while time.monotonic() < deadline:
            started = time.perf_counter()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            try:
                connection.request("GET", cycle[number % len(cycle)], headers=headers)
                response = connection.getresponse()
                response.read()
                ok = response.status == 200
            except OSError:
                ok = False
            finally:
                connection.close()
            with lock:
                counts["ok" if ok else "errors"] += 1
                counts["latencies"].append((time.perf_counter() - started) * 1000)
            number += threads

    cpu = time.process_time()
    workers = [threading.Thread(target=run, args=(offset,)) for offset in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    queue.put({**counts, "cpu": time.process_time() - cpu})


def throughput(server, cookie, cycle, clients, duration, processes=4):
    """(requests/s, errors, latencies in ms, load generator CPU seconds) of `clients` concurrent clients."""
    queue = multiprocessing.Queue()
    shares = [clients // processes + (n < clients % processes) for n in range(processes)]
    started = time.monotonic()
    children = [multiprocessing.Process(target=_client_process, args=(server.port, cookie, cycle, threads,
                                                                      duration, queue))
                for threads in shares if threads]
    for child in children:
        child.start()
    results = [queue.get() for _ in children]
    for child in children:
        child.join()
    elapsed = time.monotonic() - started
    ok = sum(r["ok"] for r in results)
    return (ok / elapsed, sum(r["errors"] for r in results), [ms for r in results for ms in r["latencies"]],
            sum(r["cpu"] for r in results))


def under_gunicorn(server, cookie, route_paths, clients, duration, rounds):
    """route -> list of (requests/s, errors, latencies, client CPU) per round; the routes alternate."""
    runs = {route: [] for route in ROUTES}
    for route in ROUTES:  # warm every worker on every route first
        throughput(server, cookie, route_paths[route], clients, 1)
    for _ in range(rounds):
        for route in ROUTES:
            runs[route].append(throughput(server, cookie, route_paths[route], clients, duration))
    return runs


# -- 3. WeCom calls on warm opens, 4. page weight ---------------------------------------------------

def open_sidebar(server, session, contacts, groups, opens):
    """`opens` opens of the sidebar as the page makes them: shell, both signatures, panel, library."""
    page = quote(server.url + "/sidebar/")
    for number in range(opens):
        contact, group = contacts[number % len(contacts)], groups[number % len(groups)]
        chat, panel = ((f"contact:{contact}", f"/sidebar/contacts/{contact}") if number % 2 == 0
                       else (f"group:{group}", f"/sidebar/groups/{group}"))
        for path, headers in (("/sidebar/", {}), (f"/jssdk/signature?type=corp&url={page}", {}),
                              (f"/jssdk/signature?type=agent&url={page}", {}),
                              (panel, FRAGMENT), ("/sidebar/materials?chat=" + quote(chat), FRAGMENT)):
            answer = session.get(server.url + path, headers=headers, timeout=30)
            assert answer.status_code == 200, (path, answer.status_code)


def page_weight(server, session, contacts, groups):
    """[(what, raw bytes, gzip -6 bytes, ours)] of a first open: shell, its CSS and JS, the panel fragments."""
    shell = session.get(server.url + "/sidebar/", timeout=10).text
    rows = [("HTML: /sidebar/ (the shell)", shell.encode(), True)]
    for asset in re.findall(r'(?:href|src)="(/static/[^"]+)"', shell):
        body = session.get(server.url + asset, timeout=10).content
        rows.append((asset, body, "/vendor/" not in asset))
    for name, path in (("client panel", f"/sidebar/contacts/{contacts[0]}"),
                       ("group panel", f"/sidebar/groups/{groups[0]}")):
        body = session.get(server.url + path, headers=FRAGMENT, timeout=10).content
        rows.append((f"fragment: {name}", body, True))
    return [(what, len(body), len(gzip.compress(body, 6)), ours) for what, body, ours in rows]


# -- the report -----------------------------------------------------------------------------------

def machine():
    """CPU count, model, and the load average now."""
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), "unknown")
    return f"{os.cpu_count()} CPUs ({model}), load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}"


def report_in_process(results, split, misses):
    """Print the in-process table; add missed budgets to misses."""
    print(f"\n1. In process (Flask test client, production mode, htmx requests, {len(results['trivial'][0])} each)")
    print(f"   {'view':<40} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} {'CPU ms':>7} {'SQL':>4}  budget")
    for route in ROUTES:
        times, cpu, statements = results[route]
        p99 = percentile(times, 0.99)
        verdict = "(reference)" if route == "trivial" else _verdict(p99 < P99_BUDGET_MS, f"p99 < {P99_BUDGET_MS} ms",
                                                                     misses, LABELS[route])
        print(f"   {LABELS[route]:<40} {statistics.median(times):7.1f} {p99:7.1f} {max(times):7.1f} "
              f"{statistics.median(cpu):7.1f} {statements:4}  {verdict}")
    for label, times in split.items():
        print(f"     {label:<38} {statistics.median(times):7.1f} {percentile(times, 0.99):7.1f} {max(times):7.1f}")


def report_gunicorn(runs, clients, duration, workers, restarts, misses):
    """Print the throughput table (median of the rounds); add missed budgets to misses."""
    rounds = len(runs["trivial"])
    print(f"\n2. Under gunicorn ({workers} workers, {clients} concurrent clients in 4 processes, "
          f"{rounds} rounds × {duration:g} s per route, median round; {restarts} worker recycles)")
    print(f"   {'route':<40} {'req/s':>7} {'÷ trivial':>9} {'p50 ms':>7} {'p99 ms':>7} {'errors':>6} "
          f"{'client CPU':>10}  budget")
    trivial = statistics.median(r[0] for r in runs["trivial"])
    for route in ROUTES:
        rates = [r[0] for r in runs[route]]
        rate = statistics.median(rates)
        latencies = [ms for r in runs[route] for ms in r[2]]
        errors = sum(r[1] for r in runs[route])
        cpu = sum(r[3] for r in runs[route]) / (rounds * duration)
        ratio = rate / trivial
        verdict = "(reference)" if route == "trivial" else (
            _verdict(ratio >= THROUGHPUT_SHARE, "≥ 1/3 of trivial", misses, LABELS[route] + " throughput")
            if route != "library" else "(no budget)")
        print(f"   {LABELS[route]:<40} {rate:7.0f} {ratio:9.2f} {statistics.median(latencies):7.1f} "
              f"{percentile(latencies, 0.99):7.1f} {errors:6} {cpu:9.0%}  {verdict}")
        if errors:
            misses.append(f"{LABELS[route]}: {errors} failed requests")
    print("   (rounds, req/s: " + "; ".join(f"{route} " + " ".join(f"{r[0]:.0f}" for r in runs[route])
                                         for route in ROUTES) + ")")


def report_calls(cold, calls, opens, misses):
    """Print the WeCom call count of the warm opens."""
    first = ", ".join(f"{path} {count}" for path, count in sorted(cold.items())) or "none"
    print(f"\n3. WeCom calls: the first open after login (cold): {first}")
    print(f"   during the whole load run and {opens} warm opens after it: {calls}   "
          f"{_verdict(calls == 0, 'must be 0', misses, 'WeCom calls on warm opens')}")


def report_weight(rows, misses):
    """Print the page weight table."""
    print("\n4. Page weight of a first open (gzip -6 of each response body)")
    print(f"   {'what':<66} {'bytes':>8} {'gzip':>8}")
    for what, raw, packed, ours in rows:
        print(f"   {what + ('' if ours else ' (vendored)'):<66} {raw:8,} {packed:8,}")
    panels = [packed for what, _, packed, _ in rows if what.startswith("fragment:")]
    base = sum(packed for what, _, packed, ours in rows if ours and not what.startswith("fragment:"))
    total = base + max(panels)
    vendored = sum(packed for *_, packed, ours in rows if not ours)
    budget = _verdict(total < PAGE_BUDGET_KB * 1024, f"< {PAGE_BUDGET_KB} KB", misses, "page weight")
    print(f"   ours: shell + CSS + our JS + the larger panel fragment = {total / 1024:.1f} KB gzip   {budget}")
    print(f"   vendored htmx + @wecom/jssdk = {vendored / 1024:.1f} KB gzip (cached after the first open)")


def _verdict(passed, budget, misses, what):
    """PASS/MISS text; a miss is remembered."""
    if not passed:
        misses.append(what)
    return f"{'PASS' if passed else 'MISS'} ({budget})"


def measure_gunicorn(args, settings, emulator, contacts, groups, route_paths, misses):
    """Parts 2–4 against gunicorn: throughput, WeCom calls on warm opens, page weight."""
    server = Gunicorn(settings, dataset.DATA / "gunicorn.log")
    try:
        session = requests.Session()
        login(lambda path: session.get(server.url + path, allow_redirects=False, timeout=30), emulator.url)
        emulator.clear_calls()
        open_sidebar(server, session, contacts, groups, 2)  # the first open fetches token and tickets
        cold = emulator.calls()
        emulator.clear_calls()
        cookie = "sidebar_session=" + session.cookies["sidebar_session"]
        runs = under_gunicorn(server, cookie, route_paths, args.clients, args.duration, args.rounds)
        load = machine()
        open_sidebar(server, session, contacts, groups, args.opens)
        calls = sum(emulator.calls().values())
        weight = page_weight(server, session, contacts, groups)
        workers, restarts = server.workers() - server.restarts(), server.restarts()
    finally:
        server.stop()
    report_gunicorn(runs, args.clients, args.duration, workers, restarts, misses)
    print(f"   machine: {load} (after the load run)")
    report_calls(cold, calls, args.opens, misses)
    report_weight(weight, misses)


def arguments():
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300, help="timed requests per view in process")
    parser.add_argument("--duration", type=float, default=6, help="seconds per route and round under gunicorn")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--clients", type=int, default=12, help="concurrent clients under gunicorn")
    parser.add_argument("--opens", type=int, default=40, help="warm opens whose WeCom calls are counted")
    parser.add_argument("--in-process-only", action="store_true", help="only part 1 (quicker, for profiling)")
    parser.add_argument("--seed", type=int, default=20261126)
    for name, value in dataset.SCALE.items():
        parser.add_argument("--" + name.replace("_", "-"), type=int, default=value)
    return parser.parse_args()


def main():
    """Build or reuse the database, measure everything, print the tables, exit 1 on a miss."""
    args = arguments()
    scale = {name: getattr(args, name) for name in dataset.SCALE}
    master = dataset.database(args.seed, **scale)
    print(f"database {master.name}: {', '.join(f'{k} {v:,}' for k, v in scale.items())}")
    print(f"machine: {machine()} (start)")
    emulator = Emulator()
    settings = production_settings(fresh_copy(master), emulator.url)
    misses = []
    try:
        contacts, groups = targets(create_app(settings))
        route_paths = paths(contacts, groups)
        results, split = in_process(settings, route_paths, emulator.url, args.requests)
        print(f"machine: {machine()} (after the in-process part)")
        report_in_process(results, split, misses)
        if not args.in_process_only:
            measure_gunicorn(args, settings, emulator, contacts, groups, route_paths, misses)
    finally:
        emulator.stop()
    print(f"\nmachine: {machine()} (end)")
    print("MISSED: " + "; ".join(misses) if misses else "ALL BUDGETS PASS")
    sys.exit(1 if misses else 0)


if __name__ == "__main__":
    main()
