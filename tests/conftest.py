"""pytest harness: every test runs inside a real Frappe site with ERPNext and this checkout's MedTrace.

At session start the dedicated test site is created (or migrated when the app's source changed), the
process connects to it like a bench command does, and what an offline ERPNext site lacks (a company,
fiscal year, warehouses, exchange rates) is seeded once and committed. Each test then runs in its own
transaction, rolled back afterwards; tests that must commit (DDL, migrate, uninstall) clean up after
themselves.
"""

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))
sys.path.insert(0, str(REPO / "tests"))

import bench_tool  # noqa: E402


def pytest_configure(config):
	config.addinivalue_line("markers", "destructive: reinstalls the app on the test site; runs last")


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

	from offline_seed import seed_offline_site

	seed_offline_site()
	frappe.db.commit()
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
	frappe.set_user("Administrator")


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
