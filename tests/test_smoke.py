"""Smoke checks ("Verify system functionality" with evidence) against a real local HTTP
server the test starts: status and text checked, timeouts honoured, a failure never hides
the others, results journalled only on --record (or `s` in the checklist) and shown as the
checklist item's evidence."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from cockpit.journal import Journal
from cockpit.plan import load_plan
from cockpit.tui.app import CockpitApp
from tests.fixtures.cli import run
from tests.fixtures.tui import settle


class QuietServer(ThreadingHTTPServer):
    """The client gives up on /slow before the answer: the server's write then meets a
    closed socket, which is the test's intent, not an error to print into captured stderr."""

    def handle_error(self, request, client_address) -> None:
        pass


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/slow":
            time.sleep(1.5)
        status, body = {"/": (200, b"Welcome to the platform"), "/dashboard": (200, b"Production dashboard"),
                        "/broken": (500, b"boom"), "/slow": (200, b"late"), "/moved": (302, b"")}.get(self.path, (404, b"no"))
        self.send_response(status)
        if status == 302:
            self.send_header("Location", "/")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args) -> None:
        pass


@pytest.fixture
def server():
    httpd = QuietServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def with_smoke(config: Path, base: str, broken: bool = True) -> Path:
    extra = f'''
[[smoke]]
id = "home"
url = "{base}/"
contains = "Welcome"

[[smoke]]
id = "dashboard"
url = "{base}/dashboard"
phase = 10
contains = "dashboard"
'''
    if broken:
        extra += f'''
[[smoke]]
id = "people"
url = "{base}/broken"
phase = 9

[[smoke]]
id = "slow"
url = "{base}/slow"
phase = 9
timeout_s = 0.3

[[smoke]]
id = "moved"
url = "{base}/moved"
phase = 9

[[smoke]]
id = "closed"
url = "http://127.0.0.1:9/"
phase = 9
timeout_s = 2
'''
    config.write_text(config.read_text(encoding="utf-8") + extra, encoding="utf-8")
    return config


def test_smoke_checks_against_a_real_server(sandbox: Path, server: str, capsys) -> None:
    config = str(with_smoke(sandbox, server))
    plan = load_plan(config)
    code, out, err = run(capsys, "smoke", "--phase", "9", "--json", "--config", config)
    assert code == 1, err
    results = {r["id"]: r for r in json.loads(out)["results"]}
    assert set(results) == {"home", "people", "slow", "moved", "closed"}, "phase 10's check is not phase 9's"
    assert results["home"]["ok"] and results["home"]["status"] == 200
    assert not results["people"]["ok"] and results["people"]["detail"] == "HTTP 500, expected 200"
    assert not results["slow"]["ok"] and "no answer within 0.3s" in results["slow"]["detail"] and results["slow"]["seconds"] < 1.4
    assert not results["moved"]["ok"] and results["moved"]["status"] == 302, "a redirect is not followed into a 200"
    assert not results["closed"]["ok"] and results["closed"]["detail"].startswith("unreachable")
    assert not plan.paths.journal.exists(), "without --record nothing is written"

    code, out, _ = run(capsys, "smoke", "--phase", "10", "--record", "--config", config)
    assert code == 0 and "2/2 smoke checks passed" in out
    journal = Journal(plan.paths.journal, plan.target.label, "inspector")
    try:
        (event,) = [e for e in journal.events() if e.kind == "smoke"]
    finally:
        journal.close()
    assert event.phase == 10 and event.data["ok"] is True and len(event.data["results"]) == 2


def test_smoke_plan_errors(sandbox: Path, capsys) -> None:
    code, _, err = run(capsys, "smoke", "--config", str(sandbox))
    assert code == 2 and "declares no [[smoke]] checks" in err
    sandbox.write_text(sandbox.read_text() + '\n[[smoke]]\nid = "x"\nurl = "ftp://nope"\n', encoding="utf-8")
    code, _, err = run(capsys, "smoke", "--config", str(sandbox))
    assert code == 2 and "phases.toml:" in err and "url must start with http:// or https://" in err


async def test_checklist_smoke_evidence(sandbox: Path, server: str) -> None:
    plan = load_plan(with_smoke(sandbox, server, broken=False))
    app = CockpitApp(plan, operator="alice", auto_refresh=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        assert "press s to run the smoke checks" in app.screen._details["after:verify"]
        await pilot.press("s")
        await settle(pilot)
        assert "2/2 smoke checks passed" in app.screen._details["after:verify"]
