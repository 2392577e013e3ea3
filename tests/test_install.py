"""The app is installed on a real ERPNext site with its modules, doctypes, shipped records and workspace."""

import json

import frappe

from bench_tool import TEST_SITE, site_command

import pytest

pytestmark = pytest.mark.requirement("MT-INS-001")

MEDTRACE_MODULES = {"MedTrace Setup", "UDI", "Traceability", "Quality", "Recall", "MedTrace Integrations", "Audit", "Packaging", "Validation", "Signatures"}


def test_bench_lists_frappe_erpnext_and_medtrace(bench):
	listed = site_command(bench, TEST_SITE, "list-apps", "--format", "json").stdout
	apps = json.loads(listed[listed.index("{") :])[TEST_SITE]
	assert {"frappe", "erpnext", "medtrace"} <= set(apps)


def test_installed_apps_record_medtrace_after_erpnext():
	installed = frappe.get_installed_apps()
	assert installed.index("erpnext") < installed.index("medtrace")


def test_modules_belong_to_medtrace():
	modules = set(frappe.get_all("Module Def", filters={"app_name": "medtrace"}, pluck="name"))
	assert modules == MEDTRACE_MODULES


@pytest.mark.requirement("MT-AUD-003")
def test_every_medtrace_doctype_tracks_changes():
	doctypes = frappe.get_all(
		"DocType", filters={"module": ("in", list(MEDTRACE_MODULES))}, fields=["name", "track_changes"]
	)
	assert doctypes, "MedTrace ships doctypes"
	assert [d.name for d in doctypes if not d.track_changes] == []


def test_udi_custom_fields_are_on_batch_and_serial_no():
	for doctype in ("Batch", "Serial No"):
		meta = frappe.get_meta(doctype)
		for fieldname in ("udi_device_identifier", "udi_pi", "udi_element_string", "udi_digital_link"):
			assert meta.has_field(fieldname), f"{doctype}.{fieldname}"
		assert frappe.db.get_value("Custom Field", f"{doctype}-udi_pi", "module") == "UDI"


def test_shipped_workflow_is_active_on_udi_device_identifier():
	workflow = frappe.get_doc("Workflow", "UDI Device Identifier Release")
	assert workflow.is_active
	assert workflow.document_type == "UDI Device Identifier"
	assert {t.action for t in workflow.transitions} == {"Submit for Approval", "Approve", "Reject", "Mark Obsolete"}


def test_medtrace_workspace_links_the_udi_register():
	workspace = frappe.get_doc("Workspace", "MedTrace")
	assert workspace.module == "MedTrace Setup"
	assert "UDI Device Identifier" in {link.link_to for link in workspace.links}


@pytest.mark.requirement("MT-DSK-003")
def test_every_medtrace_string_has_a_chinese_translation():
	"""MedTrace's first users are Chinese manufacturers: every string the app shows must exist in zh,
	either in MedTrace's own translations or in Frappe's / ERPNext's (for words they already translate)."""
	from frappe.translate import get_all_translations, get_messages_for_app, get_messages_from_navbar

	from medtrace.setup.fixtures import shipped_records

	frappe.clear_cache()
	translations = get_all_translations("zh")
	messages = {message[1] for message in get_messages_for_app("medtrace")}
	messages -= {message[1] for message in get_messages_from_navbar()}  # Frappe's own navbar, not MedTrace's
	# Frappe extracts strings of custom fields and workflows only from the `fixtures` hook, which
	# MedTrace replaces with its own loader.
	for record in shipped_records():
		messages.update(filter(None, (record.get("label"), record.get("description"), record.get("role_name"))))
		messages.update(row[key] for row in record.get("transitions", []) for key in ("action", "state"))
	assert sorted(message for message in messages if message not in translations) == []
	assert translations["UDI Device Identifier"] == "UDI 器械标识"
