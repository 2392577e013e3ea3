"""Shipped records (roles, workflow states, custom fields, workflows) and how they reach a site.

They live as Frappe-format JSON in ``apps/medtrace/fixtures/`` and ``medtrace/workflow/``. A record is
inserted only when the site does not have it yet: once installed it belongs to the site, and whatever a
business user changed in the Desk (a workflow transition, a field label) must survive ``bench migrate``.
Changes MedTrace itself needs to make to an already installed record are written as patches.
"""

import json
from pathlib import Path

import frappe

APP_ROOT = Path(__file__).resolve().parents[2]
FIXTURES_DIR = APP_ROOT / "fixtures"
WORKFLOW_DIR = APP_ROOT / "medtrace" / "workflow"

# Order matters: workflows need their states and actions, custom fields may reference roles, data-quality
# rules name roles and fields.
FIXTURE_FILES = (
	("Role", "role.json"),
	("Workflow State", "workflow_state.json"),
	("Workflow Action Master", "workflow_action_master.json"),
	("Custom Field", "custom_field.json"),
	("Report", "report.json"),
	("Data Quality Rule", "data_quality_rule.json"),
	("Email Template", "email_template.json"),
)
# Records that name a workflow: loaded after the workflows.
WORKFLOW_RULE_FILES = (("Separation of Duties Rule", "separation_of_duties_rule.json"),)

# Run statistics of data-quality rules belong to the site, not to the shipped rule.
VOLATILE_KEYS = {
	"creation", "modified", "modified_by", "owner", "idx", "docstatus", "parent", "last_run_on", "last_run_violations",
}


def read_fixture(filename: str) -> list[dict]:
	path = FIXTURES_DIR / filename
	return json.loads(path.read_text()) if path.exists() else []


def read_shipped_workflows() -> list[dict]:
	return [json.loads(path.read_text()) for path in sorted(WORKFLOW_DIR.glob("*.json"))]


def shipped_records() -> list[dict]:
	records = [doc for _doctype, filename in FIXTURE_FILES for doc in read_fixture(filename)]
	rules = [doc for _doctype, filename in WORKFLOW_RULE_FILES for doc in read_fixture(filename)]
	return records + read_shipped_workflows() + rules


def record_name(doc: dict) -> str:
	if doc["doctype"] == "Custom Field":
		return doc.get("name") or f"{doc['dt']}-{doc['fieldname']}"
	return doc["name"]


def load_shipped_records() -> list[str]:
	"""Insert every shipped record the site lacks; returns the names inserted."""
	inserted = []
	for doc in shipped_records():
		name = record_name(doc)
		if frappe.db.exists(doc["doctype"], name):
			continue
		record = frappe.get_doc({**doc, "name": name})
		record.flags.ignore_version = True
		record.insert(ignore_permissions=True, set_name=name)
		inserted.append(f"{doc['doctype']}: {name}")
	for doctype in {doc["dt"] for doc in read_fixture("custom_field.json")}:
		frappe.clear_cache(doctype=doctype)
	return inserted


def export_fixtures(target_dir: str | None = None) -> None:
	"""Write the site's current copy of every shipped record back to the app (developer tool).

	Run with ``bench --site <site> execute medtrace.setup.fixtures.export_fixtures``; ``target_dir``
	writes fixtures/ and workflow/ under another directory instead of the app.
	"""
	fixtures_dir = Path(target_dir) / "fixtures" if target_dir else FIXTURES_DIR
	workflow_dir = Path(target_dir) / "workflow" if target_dir else WORKFLOW_DIR
	fixtures_dir.mkdir(parents=True, exist_ok=True)
	workflow_dir.mkdir(parents=True, exist_ok=True)
	for doctype, filename in FIXTURE_FILES + WORKFLOW_RULE_FILES:
		docs = [export_doc(doctype, record_name(doc)) for doc in read_fixture(filename)]
		write_json(fixtures_dir / filename, [doc for doc in docs if doc])
	for workflow in read_shipped_workflows():
		doc = export_doc("Workflow", workflow["name"])
		if doc:
			write_json(workflow_dir / f"{frappe.scrub(workflow['name'])}.json", doc)


def export_doc(doctype: str, name: str) -> dict | None:
	if not frappe.db.exists(doctype, name):
		return None
	doc = frappe.get_doc(doctype, name).as_dict(no_default_fields=False, no_nulls=True)
	return strip_volatile(doc)


def strip_volatile(value):
	if isinstance(value, dict):
		return {
			key: strip_volatile(val)
			for key, val in value.items()
			if key not in VOLATILE_KEYS and not key.startswith("_") and not (key == "name" and "parentfield" in value)
		}
	if isinstance(value, list):
		return [strip_volatile(item) for item in value]
	return value


def write_json(path: Path, data) -> None:
	path.write_text(frappe.as_json(data, indent=1) + "\n")


def delete_shipped_workflows() -> None:
	for workflow in read_shipped_workflows():
		frappe.delete_doc_if_exists("Workflow", workflow["name"], force=True)
