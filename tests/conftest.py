"""pytest harness: every test runs inside a real Frappe site with ERPNext and this checkout's MedTrace.

At session start the dedicated test site is created (or migrated when the app's source changed), the
process connects to it like a bench command does, and what an offline ERPNext site lacks (a company,
fiscal year, warehouses, exchange rates) is seeded once and committed. Each test then runs in its own
transaction, rolled back afterwards; tests that must commit (DDL, migrate, uninstall) clean up after
themselves. The trace scenario (test_trace_links.plant_fixtures) is the exception: built once per test
module and committed, under names of its own, and kept on the test site.
"""

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))
sys.path.insert(0, str(REPO / "tests"))

import bench_tool  # noqa: E402

# Requirement markers, the OQ result file and --requirements (tests/requirement_markers.py).
pytest_plugins = ["requirement_markers"]


def pytest_configure(config):
	config.addinivalue_line("markers", "destructive: reinstalls the app on the test site; runs last")
	config.addinivalue_line("markers", "slow: builds a whole second bench (minutes); deselect with -m 'not slow'")
	config.addinivalue_line("markers", "requirement(*ids, direct=True): the requirements (docs/requirements.yaml) the test proves")


def pytest_collection_modifyitems(items):
	items.sort(key=lambda item: item.get_closest_marker("destructive") is not None)


@pytest.fixture(scope="session", autouse=True)
def test_site():
	bench = bench_tool.bench_path()
	try:
		bench_tool.check_bench(bench)
		bench_tool.check_services(bench)
		bench_tool.link_app(bench)
		bench_tool.prepare_test_site(bench)
	except bench_tool.SetupError as error:
		pytest.exit(f"medtrace: {error}", returncode=2)

	import frappe

	os.chdir(bench / "sites")
	frappe.init(site=bench_tool.TEST_SITE, sites_path=str(bench / "sites"))
	frappe.connect()
	frappe.set_user("Administrator")

	from factories import disable_committed_users_of_earlier_runs
	from offline_seed import seed_offline_site

	seed_offline_site()
	frappe.db.commit()
	restore_site_settings()
	disable_committed_users_of_earlier_runs()
	yield bench_tool.TEST_SITE
	frappe.db.rollback()
	frappe.destroy()
	bench_tool.give_back_to_bench_owner(bench)


@pytest.fixture(autouse=True)
def isolated_transaction(test_site):
	import frappe

	frappe.set_user("Administrator")
	frappe.local.message_log = []
	yield
	# A test's transaction is discarded whole: what a refused request would keep after its rollback (failed
	# signature attempts) belongs to the test too.
	frappe.db.after_rollback.reset()
	frappe.db.rollback()
	# So are the signing locks it holds (named locks of this connection, which a rollback keeps).
	frappe.db.sql("select release_all_locks()")
	restore_site_settings()
	frappe.set_user("Administrator")


# The test site runs no scheduler: the browser tests' demo server runs `bench schedule`, which serves every
# site of the bench whose scheduler is on, and ERPNext's jobs (the daily ones at the site's midnight among
# them) would then post and lock stock beside the tests. A test may switch these settings in its transaction;
# a refused signature commits its attempt, and the test's settings with it, so they are put back here.
SITE_SETTINGS = {"enable_scheduler": 0, "enable_password_policy": 0, "session_expiry": "170:00"}


def restore_site_settings():
	import frappe

	current = frappe.db.get_singles_dict("System Settings")
	if any(str(current.get(field)) != str(value) for field, value in SITE_SETTINGS.items()):
		frappe.db.set_single_value("System Settings", SITE_SETTINGS)
		frappe.db.commit()


@pytest.fixture(scope="session")
def bench():
	return bench_tool.bench_path()


@pytest.fixture(scope="session")
def web_server(bench, test_site):
	"""The test site served over HTTP on a free port, for HTTP tests and for PDFs (wkhtmltopdf fetches the
	print CSS from the site's URL, which then points here)."""
	import subprocess

	import frappe

	port = bench_tool.free_port()
	server = subprocess.Popen(
		[str(bench / "env/bin/python"), "-m", "frappe.utils.bench_helper", "frappe", "--site", test_site, "serve",
		 "--port", str(port), "--noreload"],
		cwd=bench / "sites", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
	)
	bench_tool.wait_for_port(port)
	url = f"http://127.0.0.1:{port}"
	frappe.local.conf.host_name = url
	yield url
	server.terminate()
	server.wait(timeout=30)


# Debian's Chromium: Playwright's own browser download is out of reach on the plants' networks.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
	"--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync",
	"--no-first-run",
]


@pytest.fixture(scope="session")
def chromium():
	"""One browser for the session: Playwright's sync API runs one event loop per process, so every test that
	drives Chromium shares it."""
	try:
		from playwright.sync_api import sync_playwright
	except ImportError:
		pytest.fail("The browser tests need Playwright for Python: install tests/requirements.txt into the bench's Python.")
	with sync_playwright() as playwright:
		browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
		yield browser
		browser.close()


@pytest.fixture(scope="session")
def background_worker(bench, test_site):
	"""A real RQ worker (what `bench worker` runs) processing the site's background jobs."""
	import subprocess

	worker = subprocess.Popen(
		[str(bench / "env/bin/python"), "-m", "frappe.utils.bench_helper", "frappe", "worker", "--queue", "default,short,long"],
		cwd=bench / "sites", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
	)
	yield worker
	worker.terminate()
	worker.wait(timeout=30)
