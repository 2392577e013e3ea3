"""What business users configure in the Desk survives `bench migrate`: the app's shipped records are
installed once and never re-imported over the site's own changes."""

import frappe
import pytest

from bench_tool import TEST_SITE, site_command

pytestmark = pytest.mark.requirement("MT-INS-002")

WORKFLOW = "UDI Device Identifier Release"


def add_field_with_customize_form(doctype: str, fieldname: str, label: str) -> None:
	customize_form = frappe.get_doc("Customize Form")
	customize_form.doc_type = doctype
	customize_form.fetch_to_customize()
	# The Desk marks rows added in the Customize Form grid as custom fields (customize_form.js).
	customize_form.append("fields", {"fieldname": fieldname, "label": label, "fieldtype": "Data", "is_custom_field": 1})
	customize_form.save_customization()


@pytest.fixture
def desk_customisations():
	"""A Customize Form field on Batch and on a MedTrace doctype, and a workflow edited in the Desk.

	Customize Form prefixes new fieldnames with custom_, as it does for a user in the Desk."""
	add_field_with_customize_form("Batch", "sterility_test_ref", "Sterility Test Ref")
	add_field_with_customize_form("UDI Device Identifier", "nmpa_product_code", "NMPA Product Code")
	workflow = frappe.get_doc("Workflow", WORKFLOW)
	original_transitions = [t.as_dict() for t in workflow.transitions]
	workflow.append(
		"transitions",
		{"state": "Obsolete", "action": "Submit for Approval", "next_state": "Pending Approval",
		 "allowed": "MedTrace Regulatory Affairs", "allow_self_approval": 1},
	)
	workflow.states[0].allow_edit = "MedTrace Quality Engineer"
	workflow.save()
	frappe.db.commit()
	yield
	for name in ("Batch-custom_sterility_test_ref", "UDI Device Identifier-custom_nmpa_product_code"):
		frappe.delete_doc_if_exists("Custom Field", name)
	workflow = frappe.get_doc("Workflow", WORKFLOW)
	workflow.set("transitions", [{k: v for k, v in t.items() if k not in ("name", "idx")} for t in original_transitions])
	workflow.states[0].allow_edit = "MedTrace Regulatory Affairs"
	workflow.save()
	frappe.db.commit()


def test_desk_customisations_survive_migrate(bench, desk_customisations):
	site_command(bench, TEST_SITE, "migrate")
	frappe.db.rollback()  # a fresh snapshot: the command ran in another process
	frappe.clear_cache()

	assert frappe.get_meta("Batch").has_field("custom_sterility_test_ref")
	assert frappe.get_meta("UDI Device Identifier").has_field("custom_nmpa_product_code")
	workflow = frappe.get_doc("Workflow", WORKFLOW)
	assert ("Obsolete", "Pending Approval") in {(t.state, t.next_state) for t in workflow.transitions}
	assert workflow.states[0].allow_edit == "MedTrace Quality Engineer"


def test_deleted_shipped_record_is_restored_by_migrate_loader():
	"""A shipped record the site lacks (e.g. a role deleted by mistake) comes back; existing ones are untouched."""
	from medtrace.setup.fixtures import load_shipped_records

	frappe.db.set_value("Workflow State", "Released", "style", "Primary")
	frappe.delete_doc("Workflow Action Master", "Mark Obsolete", force=True)
	inserted = load_shipped_records()
	assert inserted == ["Workflow Action Master: Mark Obsolete"]
	assert frappe.db.get_value("Workflow State", "Released", "style") == "Primary"


def test_export_writes_back_what_the_site_holds(tmp_path):
	"""Developers export shipped records from a site; the export carries the site's copy, Desk edits included."""
	import json

	from medtrace.setup.fixtures import FIXTURES_DIR, export_fixtures

	frappe.db.set_value("Role", "MedTrace Warehouse Operator", "desk_access", 0)
	export_fixtures(str(tmp_path))
	for filename in ("role.json", "custom_field.json", "workflow_state.json", "workflow_action_master.json"):
		shipped = {doc["name"] for doc in json.loads((FIXTURES_DIR / filename).read_text())}
		exported = json.loads((tmp_path / "fixtures" / filename).read_text())
		assert {doc["name"] for doc in exported} == shipped, filename
	roles = {doc["name"]: doc for doc in json.loads((tmp_path / "fixtures" / "role.json").read_text())}
	assert roles["MedTrace Warehouse Operator"]["desk_access"] == 0
	workflow = json.loads((tmp_path / "workflow" / "udi_device_identifier_release.json").read_text())
	assert workflow["document_type"] == "UDI Device Identifier"
	assert "name" not in workflow["transitions"][0]
