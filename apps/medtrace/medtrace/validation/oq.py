"""Operational qualification: the result file of the requirement-tagged tests (written by the pytest plugin
tests/requirement_markers.py on a disposable site) imported into a Validation Run, and the traceability
matrix built from it: requirement -> tests -> result."""

import json
from datetime import datetime, timezone
from pathlib import Path

import frappe
from frappe import _
from frappe.utils import cint, convert_utc_to_system_timezone, flt

RESULT_FORMAT = "medtrace-oq/1"
OUTCOMES = {"passed": "Passed", "failed": "Failed", "error": "Error", "skipped": "Skipped"}
LOG_EXCERPT_CHARS = 4000


class OQResultError(frappe.ValidationError):
	"""A result file that cannot be imported into this run."""


def parse_result(content) -> dict:
	try:
		result = json.loads(content) if isinstance(content, str | bytes) else content
	except ValueError:
		frappe.throw(_("The OQ result is not JSON: import the file the test run wrote with --oq-result."), OQResultError)
	if not isinstance(result, dict) or result.get("format") != RESULT_FORMAT or not isinstance(result.get("tests"), list):
		frappe.throw(_("This is not a MedTrace OQ result ({0}): import the file the test run wrote with --oq-result.").format(RESULT_FORMAT), OQResultError)
	for test in result["tests"]:
		if not isinstance(test, dict) or not test.get("nodeid") or test.get("outcome") not in OUTCOMES:
			frappe.throw(_("The OQ result lists a test without a name or outcome: {0}").format(frappe.bold(str(test)[:200])), OQResultError)
	return result


def refuse_foreign_result(run, result: dict) -> None:
	"""The tests must have run on the code and platform this site runs: same MedTrace files, same Frappe and
	ERPNext."""
	if result.get("files_digest") != run.files_digest:
		frappe.throw(
			_("The OQ result was produced with other MedTrace files than this site runs (files digest {0}, this site {1}): run the OQ from this release and import its result.").format(
				frappe.bold(str(result.get("files_digest"))[:12]), frappe.bold((run.files_digest or "")[:12])
			),
			OQResultError,
		)
	versions = result.get("versions") or {}
	for app, field in (("frappe", "frappe_version"), ("erpnext", "erpnext_version")):
		if versions.get(app) != run.get(field):
			frappe.throw(
				_("The OQ ran on {0} {1}, this site runs {2}: run it on a site created from this bench.").format(app, versions.get(app), run.get(field)),
				OQResultError,
			)


def started_on(value):
	"""The result's start (UTC, ISO 8601) in the site's time zone, as Frappe stores datetimes."""
	if not value:
		return None
	try:
		started = datetime.fromisoformat(str(value))
	except ValueError:
		frappe.throw(_("The OQ result's start time {0} is not an ISO 8601 date and time.").format(frappe.bold(str(value)[:40])), OQResultError)
	if started.tzinfo:
		started = convert_utc_to_system_timezone(started.astimezone(timezone.utc).replace(tzinfo=None)).replace(tzinfo=None)
	return started


def fill_oq(run, result: dict) -> None:
	refuse_foreign_result(run, result)
	run.oq_site = result.get("site")
	run.oq_run_on = started_on(result.get("started_on"))
	run.oq_duration = flt(result.get("duration"), 1)
	run.set("oq_results", [])
	counts = {"Passed": 0, "Failed": 0, "Error": 0, "Skipped": 0}
	for test in result["tests"]:
		outcome = OUTCOMES[test["outcome"]]
		counts[outcome] += 1
		run.append(
			"oq_results",
			{
				"test": test["nodeid"],
				"requirements": ", ".join(rid for rid, _direct in requirement_marks(test)),
				"outcome": outcome,
				"duration": flt(test.get("duration"), 3),
				"log_excerpt": (test.get("log") or "")[-LOG_EXCERPT_CHARS:],
			},
		)
	run.tests_passed = counts["Passed"]
	run.tests_failed = counts["Failed"] + counts["Error"]
	run.tests_skipped = counts["Skipped"]
	build_matrix(run, result["tests"])
	failed = run.tests_failed or any(row.result != "Pass" for row in run.matrix)
	run.oq_result = "Fail" if failed else "Pass"


def requirement_marks(test: dict) -> list[tuple[str, bool]]:
	return [(str(mark[0]), bool(mark[1])) for mark in test.get("requirements") or []]


def build_matrix(run, tests: list[dict]) -> None:
	"""One row per requirement of the register. A requirement passes when its tests ran and passed and, if
	it is high risk, one of them proves it directly (CSA: scripted testing for high risk). A requirement no
	test of this run names passes only if the upgrade left it untouched and the last approved run proved it."""
	requirements = frappe.get_all(
		"Validation Requirement", filters={"withdrawn": 0}, fields=["name", "risk"], order_by="name asc"
	)
	by_requirement: dict[str, list[tuple[dict, bool]]] = {}
	for test in tests:
		for rid, direct in requirement_marks(test):
			by_requirement.setdefault(rid, []).append((test, direct))
	impacted = {row.requirement for row in run.impacted_requirements}
	carried = carried_results(run.compared_with) if run.compared_with else {}
	run.set("matrix", [])
	for requirement in requirements:
		ran = [(test, direct) for test, direct in by_requirement.get(requirement.name, []) if test["outcome"] != "skipped"]
		failed = [test for test, _direct in ran if test["outcome"] in ("failed", "error")]
		direct_passed = [test for test, direct in ran if direct and test["outcome"] == "passed"]
		row = {
			"requirement": requirement.name,
			"risk": requirement.risk,
			"tests": len(ran),
			"direct_tests": sum(1 for _test, direct in ran if direct),
			"passed": len(ran) - len(failed),
			"failed": len(failed),
			"test_names": "\n".join(test["nodeid"] for test, _direct in ran),
		}
		if failed:
			row["result"] = "Fail"
		elif not ran:
			carried_from = carried.get(requirement.name)
			if carried_from and requirement.name not in impacted:
				row.update(result="Pass", carried_from=carried_from)
			else:
				row["result"] = "Not Tested"
		elif requirement.risk == "High" and not direct_passed:
			row["result"] = "Not Tested"
		else:
			row["result"] = "Pass"
		run.append("matrix", row)


def carried_results(run_name: str) -> dict[str, str]:
	"""Requirements an approved run proved, with the run that first tested them."""
	rows = frappe.get_all(
		"Validation Matrix Row",
		filters={"parent": run_name, "parenttype": "Validation Run", "result": "Pass"},
		fields=["requirement", "carried_from"],
	)
	return {row.requirement: row.carried_from or run_name for row in rows}


def import_oq_result_file(run: str, path: str) -> dict:
	"""bench --site <site> execute medtrace.validation.oq.import_oq_result_file --kwargs '{"run": "VAL-…", "path": "oq.json"}'"""
	from medtrace.validation.runs import import_oq_into_run

	return import_oq_into_run(run, Path(path).read_text())


def summary(run) -> dict:
	return {
		"iq_result": run.iq_result,
		"oq_result": run.oq_result,
		"tests_passed": cint(run.tests_passed),
		"tests_failed": cint(run.tests_failed),
		"requirements": len(run.matrix),
		"requirements_passed": sum(1 for row in run.matrix if row.result == "Pass"),
	}
