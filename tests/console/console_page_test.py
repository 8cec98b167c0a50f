"""The console page in headless Chromium, fed by live traffic through the real binary.

Starts the fake upstream and portico (with PORTICO_ADMIN_TOKEN), sends plain, streamed (first
event delayed) and failing chat completions while the page polls, and checks from the page's
DOM that it first asks for the token, then, given it in the URL fragment, draws every chart
from that traffic and lists the requests without keys or prompts. Optionally saves a
screenshot. Exit status 0: passed, 1: failed.
"""

import argparse
import base64
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from html.parser import HTMLParser

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cdp_pipe  # noqa: E402
import fake_openai  # noqa: E402

PROVIDER_KEY = "sk-console-test-provider-key"
PROMPT = "console-test-secret-prompt"
CHARTS = ["chart-rate", "chart-errors", "chart-latency", "chart-ttft", "chart-tokens",
          "chart-cost"]


class Failed(Exception):
    pass


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(port, path, token=None, timeout=5):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        headers = {"authorization": "Bearer " + token} if token else {}
        connection.request("GET", path, headers=headers)
        answer = connection.getresponse()
        return answer.status, answer.read().decode("utf-8", "replace")
    finally:
        connection.close()


class Gateway:
    """The portico binary on a free port, its output in a log file."""

    def __init__(self, binary, token, work):
        self.port = free_port()
        env = dict(os.environ)
        env.update({
            "PORTICO_ADMIN_TOKEN": token,
            "PORTICO_DATA_DIR": os.path.join(work, "data"),
            "PORTICO_MASTER_KEY": base64.b64encode(os.urandom(32)).decode(),
        })
        self.log_path = os.path.join(work, "portico.log")
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [binary, "--port", str(self.port), "--threads", "2"], env=env,
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while True:
            try:
                if http_get(self.port, "/health", timeout=1)[0] == 200:
                    return
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise Failed("portico did not come up; see " + self.log_path)
            time.sleep(0.1)

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class Traffic:
    """Chat completions through the gateway: plain, streamed and failing, from a few threads."""

    def __init__(self, gateway_port, upstream_port):
        self.gateway_port = gateway_port
        self.upstream = "http://127.0.0.1:%d" % upstream_port
        self.sent = {}
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.threads = []

    def one(self, kind):
        targets = {
            "plain": ("openai", "gpt-4o-mini", False),
            "plain-big": ("openai", "gpt-4o", False),
            "stream": ("openai", "gpt-4o-mini", True),
            "stream-groq": ("groq", "llama-3.1-8b-instant", True),
            "broken": ("openai", "broken", False),
        }
        provider, model, stream = targets[kind]
        body = {"model": model, "stream": stream,
                "messages": [{"role": "user", "content": PROMPT}]}
        headers = {"content-type": "application/json", "x-portkey-provider": provider,
                   "x-portkey-api-key": PROVIDER_KEY,
                   "x-portkey-custom-host": self.upstream + "/v1"}
        connection = http.client.HTTPConnection("127.0.0.1", self.gateway_port, timeout=20)
        try:
            connection.request("POST", "/v1/chat/completions", json.dumps(body), headers)
            answer = connection.getresponse()
            answer.read()
            status = answer.status
        finally:
            connection.close()
        with self.lock:
            self.sent[status] = self.sent.get(status, 0) + 1
        return status

    def _loop(self, seed):
        chooser = random.Random(seed)
        kinds = ["plain"] * 5 + ["plain-big"] * 2 + ["stream"] * 3 + ["stream-groq"] * 2 + \
            ["broken"] * 2
        while not self.stopping.is_set():
            try:
                self.one(chooser.choice(kinds))
            except OSError:
                pass
            self.stopping.wait(chooser.uniform(0.05, 0.35))

    def start(self, threads=4):
        for seed in range(threads):
            thread = threading.Thread(target=self._loop, args=(seed,), daemon=True)
            thread.start()
            self.threads.append(thread)

    def stop(self):
        self.stopping.set()
        for thread in self.threads:
            thread.join(30)


class DomReader(HTMLParser):
    """What the test reads from the dumped DOM: the charts' and the table's data-* attributes,
    the state on <body>, and the status badges of the recent requests."""

    def __init__(self):
        super().__init__()
        self.elements = {}
        self.body = {}
        self.statuses = []
        self.row_cells = []
        self._in_rows = False
        self._in_badge = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "body":
            self.body = attrs
        if "id" in attrs:
            self.elements[attrs["id"]] = attrs
        if tag == "tbody" and attrs.get("id") == "recent-rows":
            self._in_rows = True
        if self._in_rows and tag == "span" and "badge" in attrs.get("class", ""):
            self._in_badge = True

    def handle_endtag(self, tag):
        if tag == "tbody":
            self._in_rows = False
        if tag == "span":
            self._in_badge = False

    def handle_data(self, data):
        if self._in_badge:
            self.statuses.append(data.strip())
        elif self._in_rows and data.strip():
            self.row_cells.append(data.strip())


def read_dom(browser, session):
    html = browser.evaluate(
        session, "document.documentElement ? document.documentElement.outerHTML : ''") or ""
    reader = DomReader()
    reader.feed(html)
    return html, reader


def number(attrs, name):
    try:
        return float(attrs.get(name, "0"))
    except ValueError:
        return 0.0


def wait_for(what, check, timeout):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last is True:
            return
        time.sleep(0.5)
    raise Failed("timed out waiting for " + what + (": " + str(last) if last else ""))


def live_problems(dom, cost_expected):
    """What is still missing for the page to count as drawn from the traffic ("" when all)."""
    charts = {name: dom.elements.get(name, {}) for name in CHARTS}
    wanted = {
        "chart-rate": 3, "chart-errors": 1, "chart-latency": 1, "chart-ttft": 1,
        "chart-tokens": 1, "chart-cost": 1 if cost_expected else 0,
    }
    missing = []
    for name, points in wanted.items():
        attrs = charts[name]
        if number(attrs, "data-points") < points or (points and number(attrs, "data-max") <= 0):
            missing.append("%s points=%s max=%s" % (name, attrs.get("data-points"),
                                                     attrs.get("data-max")))
    # The upstream holds its first event back FIRST_EVENT_DELAY seconds: TTFT shows it (ms).
    ttft_max = number(charts["chart-ttft"], "data-max")
    if ttft_max < fake_openai.FIRST_EVENT_DELAY * 1000 * 0.9:
        missing.append("chart-ttft max %s ms below the upstream's delay" % ttft_max)
    rows = number(dom.elements.get("recent-rows", {}), "data-rows")
    if rows < 10:
        missing.append("recent-rows %d" % rows)
    if "200" not in dom.statuses or "500" not in dom.statuses:
        missing.append("statuses %s" % sorted(set(dom.statuses)))
    return "; ".join(missing)


def run(args):
    work = args.out or tempfile.mkdtemp(prefix="portico-console-")
    os.makedirs(work, exist_ok=True)
    token = "console-test-token-" + base64.b16encode(os.urandom(8)).decode().lower()
    upstream = fake_openai.start()
    gateway = None
    traffic = None
    browser = None
    passed = False
    try:
        if args.attach:
            port, token = args.attach, args.token
        else:
            gateway = Gateway(args.binary, token, work)
            port = gateway.port
        status, _ = http_get(port, "/console")
        if status != 200:
            raise Failed("GET /console answered %d: the binary does not serve the console" % status)
        if http_get(port, "/console/api/recent")[0] != 401:
            raise Failed("/console/api/recent is open without the token")

        traffic = Traffic(port, upstream.server_address[1])
        for kind in ["plain", "plain-big", "stream", "stream-groq", "broken"]:
            traffic.one(kind)
        traffic.start()

        browser = cdp_pipe.Chromium(args.chromium, [
            "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
            "--no-first-run", "--no-default-browser-check", "--disable-extensions",
            "--disable-background-networking", "--disable-sync", "--mute-audio",
            "--user-data-dir=" + os.path.join(work, "chromium-profile"),
            "--window-size=%d,%d" % (args.width, args.height),
        ], os.path.join(work, "chromium.log"))
        session = browser.open_page(args.width, args.height)
        browser.send("Emulation.setEmulatedMedia",
                     {"features": [{"name": "prefers-color-scheme", "value": args.scheme}]},
                     session=session)
        base = "http://127.0.0.1:%d/console" % port

        # Without the token: the form, and no data.
        browser.send("Page.navigate", {"url": base + "#interval=1000"}, session=session)

        def asks_for_token():
            _, dom = read_dom(browser, session)
            shown = "hidden" not in dom.elements.get("auth", {"hidden": ""})
            return True if dom.body.get("data-state") == "auth" and shown else dom.body
        wait_for("the token form", asks_for_token, 15)
        _, dom = read_dom(browser, session)
        if number(dom.elements.get("recent-rows", {}), "data-rows") != 0:
            raise Failed("the page shows requests without the token")

        # The token in the fragment: live.
        browser.send("Page.navigate", {"url": base + "#token=" + token}, session=session)
        live_since = time.monotonic()
        cost_expected = re.search(r"^portico_estimated_cost_usd_total\{[^}]*\} [1-9.][0-9.e-]*$",
                                  http_get(port, "/metrics")[1], re.M) is not None

        def drawn():
            _, dom = read_dom(browser, session)
            return live_problems(dom, cost_expected) or True
        wait_for("the charts to draw the traffic", drawn, 60)
        # A fuller picture for the screenshot.
        while time.monotonic() - live_since < args.observe:
            time.sleep(0.5)

        html, dom = read_dom(browser, session)
        with open(os.path.join(work, "console-dom.html"), "w") as out:
            out.write(html)
        problems = live_problems(dom, cost_expected)
        if problems:
            raise Failed("the page lost what it drew: " + problems)
        if browser.evaluate(session, "location.hash") != "":
            raise Failed("the token stayed in the URL")
        if browser.evaluate(session, "sessionStorage.getItem('portico.console.token')") != token:
            raise Failed("the token is not kept in sessionStorage")
        for secret in (PROVIDER_KEY, PROMPT):
            if secret in html:
                raise Failed("the page shows " + secret)
        if dom.body.get("data-state") != "live" or number(dom.body, "data-polls") < 5:
            raise Failed("the page is not live: %s" % dom.body)
        if browser.problems():
            raise Failed("the page reported errors: %s" % browser.problems())
        if args.screenshot:
            shot = browser.send("Page.captureScreenshot", {"format": "png"}, session=session)
            with open(args.screenshot, "wb") as out:
                out.write(base64.b64decode(shot["data"]))
        summary = {name: dom.elements[name].get("data-points") for name in CHARTS}
        print("console page drew %s; %s rows; sent %s" % (
            summary, dom.elements["recent-rows"].get("data-rows"), traffic.sent))
        passed = True
        return 0
    except (Failed, cdp_pipe.CdpError) as failure:
        print("FAILED:", failure, file=sys.stderr)
        print("work directory:", work, file=sys.stderr)
        if gateway:
            with open(gateway.log_path, errors="replace") as log:
                sys.stderr.write("".join(log.readlines()[-20:]))
        return 1
    finally:
        if traffic:
            traffic.stop()
        if browser:
            browser.close()
        if gateway:
            gateway.stop()
        upstream.shutdown()
        if passed and not args.out:
            shutil.rmtree(work, ignore_errors=True)  # kept only when something failed


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--binary", help="the portico binary")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--attach", type=int, help="use a gateway already on this port")
    parser.add_argument("--token", default="", help="its admin token (with --attach)")
    parser.add_argument("--screenshot", help="save a PNG of the page here")
    parser.add_argument("--out", help="work directory (default: a new temporary one)")
    parser.add_argument("--observe", type=float, default=12,
                        help="seconds of live traffic before the final check and screenshot")
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=900)
    parser.add_argument("--scheme", choices=["dark", "light"], default="dark")
    args = parser.parse_args()
    if not args.binary and not args.attach:
        parser.error("--binary or --attach is needed")
    sys.exit(run(args))


if __name__ == "__main__":
    main()
