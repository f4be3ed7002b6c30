"""The built docs site (`make docs` -> _docs/) served on 127.0.0.1 and opened in headless Chromium.

Debian's `chromium` and `chromium-driver` (`make test-docs` installs them with apt-get when missing), driven by
selenium; nothing is downloaded and the browser reaches nothing but the local server. Every page is visited once
per session (`crawl`); the tests then assert on what the browser saw.
"""
import faulthandler
import functools
import json
import os
import shutil
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest

from browse import HEIGHT, SITE, WIDTH, load

HANG_GUARD_S = int(os.environ.get("DOCS_TEST_HANG_GUARD_S", 900))   # the whole session; dumps stacks and exits
os.environ.setdefault("SE_OFFLINE", "true")                         # selenium never looks for a driver online


def pytest_configure(config):
    faulthandler.dump_traceback_later(HANG_GUARD_S, exit=True)


def pytest_unconfigure(config):
    faulthandler.cancel_dump_traceback_later()


@pytest.fixture(scope="session")
def manifest() -> dict:
    "The build's manifest: every page with its source notebook and chart count."
    f = SITE / "manifest.json"
    if not (SITE / "index.html").exists() or not f.exists():
        pytest.fail("no built site in _docs/: run `make docs` first")
    return json.loads(f.read_text())


class Server:
    "A static server for _docs/ that records every request's path and status."
    def __init__(self):
        self.log, self.lock = [], threading.Lock()
        outer = self

        class Handler(SimpleHTTPRequestHandler):
            def log_request(self, code="-", size="-"):
                with outer.lock:
                    outer.log.append((self.path, int(code) if str(code).isdigit() else 0))

            def log_message(self, *a):
                pass
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(SITE)))
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def take(self) -> list:
        with self.lock:
            out, self.log = self.log, []
        return out


@pytest.fixture(scope="session")
def server(manifest):
    s = Server()
    yield s
    s.httpd.shutdown()


@pytest.fixture(scope="session")
def browser():
    chromium, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver_path):
        pytest.fail("Debian's chromium and chromium-driver are needed: `make test-docs` installs them (apt-get)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--hide-scrollbars",
              f"--window-size={WIDTH},{HEIGHT}", "--no-first-run", "--disable-extensions",
              "--disable-background-networking", "--disable-component-update"):
        opts.add_argument(a)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    d = webdriver.Chrome(service=Service(executable_path=driver_path), options=opts)
    d.set_page_load_timeout(60)
    d.set_script_timeout(60)
    d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                      {"width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": False})
    yield d
    d.quit()


@pytest.fixture(scope="session")
def crawl(manifest, server, browser) -> dict:
    "Every page of the manifest opened once: {page: state + the console messages and requests it made}."
    out = {}
    browser.get_log("browser")
    for p in manifest["pages"]:
        server.take()
        t = time.time()
        state = load(browser, server.url + p["page"])
        time.sleep(0.05)                         # let late console messages arrive
        state["console"] = browser.get_log("browser")
        state["requests"] = server.take()
        state["seconds"] = round(time.time() - t, 2)
        out[p["page"]] = state
    return out
