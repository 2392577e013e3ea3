"""pytest plugin (loaded by conftest.py): tests name the requirements they prove, and a run can be evidence.

	@pytest.mark.requirement("MT-TRC-004")                 # proves it directly (the default)
	@pytest.mark.requirement("MT-PRM-001", direct=False)   # touches it only indirectly

Options:
  --oq-result PATH       write the operational-qualification result (JSON) that a Validation Run imports:
                         per test its requirements, outcome, duration and log excerpt, with the site, the
                         versions and the digest of the MedTrace files it ran on
  --requirements IDS     run only the tests naming one of these comma-separated requirement ids (the
                         regression scope a Validation Run lists after an upgrade)
  --requirement-map PATH with --collect-only: write each collected test's requirements (JSON)

A session refuses to run on a site that holds an approved Validation Run: such a site is validated
(production, or a copy of it), and the suite commits test data and reinstalls the app.
"""

import json
import sys
import time
from datetime import datetime, timezone

import pytest

RESULT_FORMAT = "medtrace-oq/1"
LOG_CHARS = 4000


def item_requirements(item) -> list[tuple[str, bool]]:
	marks = []
	for marker in item.iter_markers("requirement"):
		direct = bool(marker.kwargs.get("direct", True))
		marks += [(str(rid), direct) for rid in marker.args]
	return sorted(set(marks))


def pytest_addoption(parser):
	group = parser.getgroup("medtrace validation")
	group.addoption("--oq-result", metavar="PATH", help="write the OQ result a Validation Run imports (JSON)")
	group.addoption("--requirements", metavar="IDS", help="run only tests naming one of these requirement ids")
	group.addoption("--requirement-map", metavar="PATH", help="write each collected test's requirements (JSON)")


def pytest_configure(config):
	if config.getoption("--oq-result") and not hasattr(config, "workerinput"):
		config.pluginmanager.register(OQRecorder(config.getoption("--oq-result")), "medtrace-oq-recorder")


def pytest_collection_modifyitems(config, items):
	wanted = {rid.strip() for rid in (config.getoption("--requirements") or "").split(",") if rid.strip()}
	if wanted:
		selected = [item for item in items if {rid for rid, _direct in item_requirements(item)} & wanted]
		config.hook.pytest_deselected(items=[item for item in items if item not in selected])
		items[:] = selected


def pytest_collection_finish(session):
	path = session.config.getoption("--requirement-map")
	if path:
		with open(path, "w") as handle:
			json.dump({item.nodeid: item_requirements(item) for item in session.items}, handle, indent=1)


def validated_site_refusal(site: str) -> str | None:
	import frappe

	if frappe.db.table_exists("Validation Run") and frappe.db.exists("Validation Run", {"status": "Approved"}):
		return (
			f"medtrace: {site} holds an approved Validation Run, so it is a validated site (or a copy of one). "
			"Tests commit data and reinstall the app: run them on a new site (MEDTRACE_TEST_SITE=<new site>)."
		)
	return None


@pytest.fixture(scope="session", autouse=True)
def refuse_validated_site(test_site):
	refusal = validated_site_refusal(test_site)
	if refusal:
		pytest.exit(refusal, returncode=2)


class OQRecorder:
	"""Collects each test's outcome and writes the OQ result file at the end of the session."""

	def __init__(self, path: str):
		self.path = path
		self.tests: dict[str, dict] = {}
		self.started = time.time()

	def pytest_collection_modifyitems(self, items):
		for item in items:
			self.tests[item.nodeid] = {
				"nodeid": item.nodeid, "requirements": item_requirements(item), "outcome": None, "duration": 0.0, "log": "",
			}

	@pytest.hookimpl(trylast=True)
	def pytest_collection_finish(self, session):
		# Deselected tests (-k, -m, --requirements) were not run: they are not part of the result.
		selected = {item.nodeid for item in session.items}
		self.tests = {nodeid: test for nodeid, test in self.tests.items() if nodeid in selected}

	def pytest_runtest_logreport(self, report):
		test = self.tests.get(report.nodeid)
		if test is None:
			return
		test["duration"] += report.duration
		if report.failed:
			test["outcome"] = "failed" if report.when == "call" else "error"
			test["log"] = (test["log"] + "\n" + report.longreprtext)[-LOG_CHARS:]
		elif report.skipped and test["outcome"] is None:
			test["outcome"] = "skipped"
			test["log"] = str(report.longrepr[-1]) if isinstance(report.longrepr, tuple) else report.longreprtext
		elif report.when == "call" and test["outcome"] is None:
			test["outcome"] = "passed"
		if report.when == "call" and report.caplog:
			test["log"] = (test["log"] + "\n" + report.caplog)[-LOG_CHARS:]

	def pytest_sessionfinish(self, session):
		import erpnext
		import frappe

		import bench_tool
		import medtrace
		from medtrace.validation.manifest import app_checksums, files_digest

		result = {
			"format": RESULT_FORMAT,
			"site": bench_tool.TEST_SITE,
			"started_on": datetime.fromtimestamp(self.started, tz=timezone.utc).isoformat(timespec="seconds"),
			"duration": round(time.time() - self.started, 1),
			"command": " ".join(sys.argv),
			"versions": {"frappe": frappe.__version__, "erpnext": erpnext.__version__, "medtrace": medtrace.__version__},
			"files_digest": files_digest(app_checksums()),
			"tests": [test for test in self.tests.values() if test["outcome"]],
		}
		with open(self.path, "w") as handle:
			json.dump(result, handle, indent=1)
