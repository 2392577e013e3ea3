"""Upgrade impact: which requirements' code or tests changed since the last approved Validation Run, from
the two runs' manifests and the register's paths, so that the regression scope is shown, not guessed."""

import json

import frappe
from frappe import _

from medtrace.validation.manifest import compare_files
from medtrace.validation.register import is_shared, load_register, requirements_of_file

FILES_SHOWN = 8


def last_approved_run(exclude: str | None = None) -> str | None:
	filters = {"status": "Approved"}
	if exclude:
		filters["name"] = ("!=", exclude)
	found = frappe.get_all("Validation Run", filters=filters, order_by="approved_on desc", limit=1, pluck="name")
	return found[0] if found else None


def impacted_requirements(before: dict, after: dict, register: dict) -> dict[str, list[str]]:
	"""Requirement id -> the changed files that put it in scope. A file the register maps to no requirement
	(or lists as shared) puts every requirement in scope; a test file, the requirements its markers name
	before or after the change; a requirement new to the register is in scope by itself."""
	difference = compare_files(before["files"], after["files"])
	changed = difference["changed"] + difference["missing"] + difference["added"]
	every = [entry["id"] for entry in register["requirements"]]
	test_requirements = {
		name: set(before.get("test_requirements", {}).get(name, [])) | set(after.get("test_requirements", {}).get(name, []))
		for name in changed
	}
	impact: dict[str, list[str]] = {}
	for name in changed:
		if name.startswith("tests/") and not is_shared(name, register):
			ids = test_requirements[name]
		else:
			ids = [] if is_shared(name, register) else requirements_of_file(name, register)
			ids = ids or every
		for rid in ids:
			impact.setdefault(rid, []).append(name)
	if "requirements" in before:
		for rid in sorted(set(after.get("requirements", [])) - set(before["requirements"])):
			impact.setdefault(rid, []).append(_("new requirement"))
	return impact


def fill_impact(run) -> None:
	previous = last_approved_run(exclude=run.name)
	run.compared_with = previous
	run.set("impacted_requirements", [])
	if not previous:
		run.impact_summary = _("No approved Validation Run on this site yet: every requirement is in scope (initial validation).")
		return
	before = json.loads(frappe.db.get_value("Validation Run", previous, "manifest_json") or "{}")
	after = json.loads(run.manifest_json or "{}")
	register = load_register()
	impact = impacted_requirements(before, after, register)
	for rid in [entry["id"] for entry in register["requirements"] if entry["id"] in impact]:
		files = impact[rid]
		shown = ", ".join(files[:FILES_SHOWN]) + (" " + _("and {0} more").format(len(files) - FILES_SHOWN) if len(files) > FILES_SHOWN else "")
		run.append("impacted_requirements", {"requirement": rid, "changed_files": shown})
	run.impact_summary = (
		_("{0} of {1} requirements changed since {2} (MedTrace {3} to {4}): their tests are the regression scope; the others keep the evidence of {2}.").format(
			len(impact), len(register["requirements"]), previous, before.get("medtrace_version"), after.get("medtrace_version")
		)
		if impact
		else _("Nothing MedTrace ships changed since {0}.").format(previous)
	)


def regression_scope(run: str) -> str:
	"""The requirement ids to test after an upgrade, for the OQ command's --requirements option:
	bench --site <site> execute medtrace.validation.impact.regression_scope --kwargs '{"run": "VAL-…"}'"""
	return ",".join(frappe.get_all("Validation Impact", filters={"parent": run, "parenttype": "Validation Run"}, pluck="requirement", order_by="idx asc"))
