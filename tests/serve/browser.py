"""Helpers of the browser tests: Debian's Chromium driven by Playwright, servers on 127.0.0.1.

Playwright cannot download a browser on these machines, so the tests launch
`/usr/bin/chromium` (`apt-get install chromium`). Without it they skip on a laptop and fail
in CI (`CI=true`), where a skipped browser test would hide a broken dashboard.
"""

from __future__ import annotations

import functools
import http.server
import os
import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from streamcensus.config import Settings
from streamcensus.serve.cli import bind_socket, make_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
READY = "() => ['ready', 'error'].includes(document.body.dataset.state)"
CHARTS_DRAWN = """() => Array.from(document.querySelectorAll('.chart')).map(el => ({
    id: el.id,
    svg: el.querySelectorAll('svg.main-svg').length,
    marks: el.querySelectorAll('svg.main-svg .trace path, svg.main-svg .hm image').length,
    points: (el.data || []).reduce(
        (n, t) => n + ((t.x || t.z || []).filter(v => v !== null).length), 0),
    day: el.dataset.day,
}))"""


def require_chromium() -> None:
    """Skip without Chromium, except in CI where the browser tests must run."""
    if CHROMIUM.is_file():
        return
    message = f"{CHROMIUM} is missing: install Debian's chromium (`make browser`)"
    if os.environ.get("CI", "").lower() in ("true", "1"):
        pytest.fail(message)
    pytest.skip(message)


@contextmanager
def serving(settings: Settings) -> Iterator[str]:
    """The dashboard on a free port of 127.0.0.1, stopped on exit; yields its base URL."""
    sock = bind_socket("127.0.0.1", 0)
    server = make_server(settings)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        for _ in range(400):
            if server.started:
                break
            time.sleep(0.025)
        else:
            pytest.fail("the dashboard did not start within 10 s")
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return


@contextmanager
def static_server(root: Path) -> Iterator[str]:
    """A plain static file server for `root` on 127.0.0.1 (what any static host does)."""
    handler = functools.partial(_QuietHandler, directory=str(root))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(10)


# Runs before any script of every page: records each Content-Security-Policy violation
# (blocked inline script or style, eval, another origin) the page's own code caused.
RECORD_CSP_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
    const where = `${e.sourceFile}:${e.lineNumber}`;
    window.__cspViolations.push(`${e.effectiveDirective} blocked ${e.blockedURI} at ${where}`);
});
"""


@dataclass
class Watch:
    """Console errors, page errors, failed requests, requests off 127.0.0.1 (the dashboard
    must work offline) and Content-Security-Policy violations seen by a page."""

    problems: list[str] = field(default_factory=list)

    def attach(self, page: Any) -> None:
        page.add_init_script(RECORD_CSP_VIOLATIONS)
        page.on(
            "console",
            lambda m: (
                self.problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None
            ),
        )
        page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        page.on("requestfailed", lambda r: self.problems.append(f"failed: {r.url}"))
        page.on("response", self._response)
        page.on("request", self._request)

    def _request(self, request: Any) -> None:
        url = urllib.parse.urlsplit(request.url)
        if url.scheme in ("http", "https") and url.hostname != "127.0.0.1":
            self.problems.append(f"left the machine: {request.url}")

    def _response(self, response: Any) -> None:
        if response.status >= 400:
            self.problems.append(f"HTTP {response.status}: {response.url}")


def csp_violations(page: Any) -> list[str]:
    """The CSP violations the current document has seen so far."""
    found: list[str] = page.evaluate("window.__cspViolations || ['no CSP recorder in the page']")
    return found


def open_page(page: Any, url: str) -> None:
    """Go to `url` and wait until the page has drawn its data (or said why not)."""
    page.goto(url)
    page.wait_for_function(READY, timeout=30_000)


def charts(page: Any) -> list[dict[str, Any]]:
    """What each chart of the page drew."""
    drawn: list[dict[str, Any]] = page.evaluate(CHARTS_DRAWN)
    return drawn


def assert_charts_drawn(page: Any) -> list[dict[str, Any]]:
    """Every chart has an SVG with marks and data points."""
    drawn = charts(page)
    assert drawn, "the page has no chart"
    for chart in drawn:
        assert chart["svg"] > 0, chart
        assert chart["marks"] > 0, chart
        assert chart["points"] > 0, chart
    return drawn


def screenshot(page: Any, name: str) -> Path:
    """Save a full-page screenshot under test-artifacts/screenshots/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def browser_session() -> Iterator[Any]:
    """Chromium for a module's tests (skipped without it on a laptop, failing in CI)."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def watched_page(browser: Any) -> Iterator[Any]:
    """A fresh page whose problems (and CSP violations) are recorded in `page.watch`."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    opened = context.new_page()
    watch = Watch()
    watch.attach(opened)
    opened.watch = watch
    yield opened
    context.close()


def clean(page: Any) -> None:
    """The page drew without a problem, a CSP violation or a notice."""
    assert page.watch.problems == []
    assert csp_violations(page) == []
    assert page.evaluate("document.body.dataset.state") == "ready"
    assert page.locator("#notice").is_hidden()
