"""A sidebar open on a phone's network: time to a usable panel, requests and bytes, first and later opens.

Runs the demo (`flask --app wsgi demo`, fresh SQLite files in a temporary folder) and drives the
simulated WeCom client in Debian's Chromium with the network throttled by the DevTools protocol
(`Network.emulateNetworkConditions`: latency added to every response, bandwidth shared):

* 4G: 150 ms round trip, 1.6 Mbit/s down, 0.75 Mbit/s up;
* fast: 40 ms, 10 Mbit/s down, 5 Mbit/s up.

A first open is a new browser profile (empty cache, the WeCom login's redirects included); a later
open is WeCom loading the toolbar page again for the same chat (cache and session kept). Time runs
from the sidebar document's navigation start to the moment its client or group panel is in the
page (`performance.now()` in the sidebar's frame). Requests and bytes (as on the wire, headers
included) are the sidebar's own; the emulator's stand-in of WeCom's native bridge (`/_wecom/…`) is
left out, since the real WeCom client has it built in.

    .venv/bin/python bench/phone.py [--opens 7]
"""
import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
from helpers import CHROMIUM_ARGS  # noqa: E402  (one list of Chromium flags for tests and benches)

PROFILES = {  # name: (round trip ms, down bit/s, up bit/s)
    "4G (150 ms, 1.6 Mbit/s)": (150, 1.6e6, 0.75e6),
    "fast (40 ms, 10 Mbit/s)": (40, 10e6, 5e6),
}
GOALS = {"first": 1000, "later": 600}  # ms, on the 4G profile (issue 19)

# In every frame: note when the sidebar's panel has arrived (relative to that document's start).
MARK_USABLE = """
if (location.pathname.indexOf('/sidebar/') === 0) {
  new MutationObserver(function (_, observer) {
    if (document.querySelector('article.contact, article.group')) {
      window.__usable = performance.now();
      observer.disconnect();
    }
  }).observe(document, {childList: true, subtree: true});
}"""


def free_port():
    """A free TCP port on the loopback interface."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_demo(folder):
    """`flask --app wsgi demo` on fresh SQLite files; returns (process, base URL)."""
    port = free_port()
    env = {**os.environ, "SIDEBAR_DATABASE_URL": f"sqlite:///{folder}/phone.db",
           "SIDEBAR_UPLOAD_DIR": f"{folder}/uploads"}
    process = subprocess.Popen([str(Path(sys.executable).with_name("flask")), "--app", "wsgi", "demo",
                                "--port", str(port)], cwd=ROOT, env=env,
                               stdout=open(f"{folder}/demo.log", "w"), stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if requests.get(base + "/healthz", timeout=1).status_code == 200:
                return process, base
        except requests.ConnectionError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("the demo did not start: " + Path(f"{folder}/demo.log").read_text()[-2000:])


class Traffic:
    """The sidebar's requests and their bytes on the wire, from the DevTools protocol's events."""

    def __init__(self, cdp):
        self.urls, self.sizes, self.cached = {}, {}, set()
        cdp.on("Network.requestWillBeSent", lambda e: self.urls.setdefault(e["requestId"], e["request"]["url"]))
        cdp.on("Network.requestServedFromCache", lambda e: self.cached.add(e["requestId"]))
        cdp.on("Network.responseReceived", self._received)
        cdp.on("Network.loadingFinished", lambda e: self.sizes.__setitem__(e["requestId"], e["encodedDataLength"]))

    def _received(self, event):
        """A response from the browser's disk or memory cache never crossed the network."""
        response = event["response"]
        if response.get("fromDiskCache") or response.get("fromPrefetchCache"):
            self.cached.add(event["requestId"])

    def reset(self):
        """Forget what was counted so far."""
        self.urls.clear()
        self.sizes.clear()
        self.cached.clear()

    def counted(self):
        """(requests, bytes) of the sidebar's own requests since the last reset."""
        ours = [key for key, url in self.urls.items() if "/_wecom/" not in url and key not in self.cached]
        if os.environ.get("PHONE_DEBUG"):
            print([self.urls[key] for key in ours])
        return len(ours), sum(self.sizes.get(key, 0) for key in ours)


def sidebar_frame(page):
    """The simulated client's sidebar frame once its panel is usable; returns its time in ms."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for frame in page.frames[1:]:
            try:
                usable = frame.evaluate("() => window.__usable || null")
            except Exception:  # the frame navigated away between listing and asking
                usable = None
            if usable:
                return usable
        time.sleep(0.02)
    raise RuntimeError("the panel did not appear within 60 s")


def opens(browser, base, chat, profile, count):
    """One first open and `count` later opens of chat on a throttled network."""
    latency, down, up = profile
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    context.add_init_script(MARK_USABLE)
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": latency,
                                                  "downloadThroughput": down / 8, "uploadThroughput": up / 8})
    traffic = Traffic(cdp)
    page.goto(f"{base}/_wecom/client?userid=zhangwei&chat={chat}")
    first = (sidebar_frame(page), *traffic.counted())
    later = []
    for _ in range(count):
        page.wait_for_timeout(300)  # let late responses of the last open finish
        traffic.reset()
        page.evaluate("() => { for (const f of document.querySelectorAll('iframe')) f.contentWindow.__usable = 0; }")
        page.locator(f'.chat-item[data-chat="{chat}"]').first.click()
        page.wait_for_timeout(50)
        later.append((sidebar_frame(page), *traffic.counted()))
    context.close()
    return first, later


def chats(base):
    """The demo's first advisor's first client and the showroom group, as the simulated client names them."""
    world = requests.get(base + "/_wecom/_admin/world", timeout=10).json()
    follow = next(f for f in world["follows"] if f["userid"] == "zhangwei")
    group = next(g for g in world["groups"] if "样板间" in g["name"])
    return {"client": f"contact:{follow['external_userid']}", "group": f"group:{group['chat_id']}"}


def report(rows):
    """The table: per profile and panel, first open and the median later open."""
    print("\n| network | panel | first open | later open (median) | requests first / later | KB first / later |")
    print("|---|---|---|---|---|---|")
    misses = []
    for (profile, panel), (first, later) in rows.items():
        times = [t for t, _, _ in later]
        median = statistics.median(times)
        print(f"| {profile} | {panel} | {first[0]:.0f} ms | {median:.0f} ms (min {min(times):.0f}, max {max(times):.0f}) "
              f"| {first[1]} / {statistics.median(n for _, n, _ in later):.0f} "
              f"| {first[2] / 1024:.1f} / {statistics.median(b for _, _, b in later) / 1024:.1f} |")
        if profile.startswith("4G"):
            for name, value in (("first", first[0]), ("later", median)):
                if value > GOALS[name]:
                    misses.append(f"{panel} {name} open {value:.0f} ms > {GOALS[name]} ms")
    print(f"\nGoal on 4G: a first open ≤ {GOALS['first']} ms, a later open ≤ {GOALS['later']} ms: "
          + ("MISS: " + "; ".join(misses) if misses else "PASS"))
    return misses


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--opens", type=int, default=7, help="later opens per panel and profile")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        process, base = start_demo(folder)
        try:
            targets = chats(base)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
                rows = {(name, panel): opens(browser, base, chat, profile, args.opens)
                        for name, profile in PROFILES.items() for panel, chat in targets.items()}
                browser.close()
        finally:
            process.terminate()
            process.wait(timeout=10)
    return 1 if report(rows) else 0


if __name__ == "__main__":
    sys.exit(main())
