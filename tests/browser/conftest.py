"""Browser tests: the Desk as the demo's quality team uses it, in Debian's Chromium driven by Playwright.

The demo company is loaded into a site of its own (`<test site>-desk.localhost`): created, loaded and
dumped once per version of the app, and restored from that dump at the start of every session, so each
run starts from the demo as `scripts/serve-demo` shows it. It is served as serve-demo serves it
(scripts/desk_server.py: web, socket.io, worker, scheduler on 127.0.0.1).

Every test fails on a browser console error or an uncaught page error, unless the test declares the
error it provokes (`desk.expect_console_error`). A failing test leaves a screenshot in tests/output/;
tests also keep screenshots of the screens they check in tests/output/screens/.
"""

import re
import time

import pytest

import desk_server
from desk_session import DESK_SITE, OUTPUT, Desk, prepare_desk_site

browser_seconds = []


def pytest_configure(config):
	config.addinivalue_line("markers", "browser: drives the Desk in Chromium (tests/browser)")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
	outcome = yield
	report = outcome.get_result()
	setattr(item, f"report_{report.when}", report)


def pytest_runtest_logreport(report):
	if "browser" in report.keywords:
		browser_seconds.append(report.duration)


def pytest_terminal_summary(terminalreporter):
	if browser_seconds:
		terminalreporter.write_sep("-", f"browser tests: {sum(browser_seconds):.1f} s (setup, run and teardown)")


# For the browser tests only: its worker and scheduler serve every site of the bench, the test site too.
@pytest.fixture(scope="package")
def desk_server_process(bench, test_site):
	"""The demo site served as scripts/serve-demo serves it (scripts/desk_server.py)."""
	started = time.monotonic()
	prepare_desk_site(bench)
	with desk_server.serve_site(bench, DESK_SITE, port=desk_server.free_port()) as server:
		print(f"\nDesk for the browser tests: {server.url} ({time.monotonic() - started:.0f} s to prepare and serve)")
		yield server


@pytest.fixture(scope="package")
def desk_url(desk_server_process):
	return desk_server_process.url


@pytest.fixture
def desk(chromium, desk_url, request):
	"""desk(user) → that user's logged-in browser session; checked for browser errors when the test ends."""
	sessions = []

	def open_desk(user: str = "Administrator") -> Desk:
		session = Desk(chromium, desk_url, user, f"{request.node.name}-{len(sessions)}")
		sessions.append(session)
		return session

	yield open_desk
	failed = getattr(request.node, "report_call", None) is not None and request.node.report_call.failed
	errors = []
	for session in sessions:
		if failed:
			(OUTPUT / "failures").mkdir(parents=True, exist_ok=True)
			for number, page in enumerate(session.context.pages):
				safe = re.sub(r"[^\w.-]+", "_", f"{session.name}-{number}")
				page.screenshot(path=str(OUTPUT / "failures" / f"{safe}.png"), full_page=True)
		errors += [f"{session.user}: {error}" for error in session.unexpected_errors()]
		session.context.close()
	if errors and not failed:
		pytest.fail("Browser errors:\n" + "\n".join(errors))
