"""UDI Data Dictionary: generated from the site's metadata, so fields added in the Desk appear without code
changes, every described MedTrace field carries its description, and the filters narrow it."""

import frappe
import pytest
from frappe.desk.query_report import run
from medtrace.audit.audited import medtrace_modules
from medtrace.setup.permissions import PRODUCTION_OPERATOR, QUALITY_APPROVER

pytestmark = pytest.mark.requirement("MT-UDI-007")

REPORT = "UDI Data Dictionary"
PROBE_ON_BATCH = "medtrace_dictionary_probe"
PROBE_BY_CUSTOMIZE_FORM = "custom_nmpa_category_code"  # Customize Form names it after the label


def dictionary(**filters) -> list[dict]:
	return run(REPORT, filters=filters)["result"]


def by_field(rows) -> dict[tuple[str, str], dict]:
	return {(row["doctype_name"], row["fieldname"]): row for row in rows}


@pytest.fixture
def fields_added_in_the_desk():
	"""A Custom Field document of module UDI on Batch, and a field added with Customize Form on a MedTrace
	doctype, as a business user adds them. Adding a column commits, so they are removed afterwards."""
	try:
		add_fields_in_the_desk()
		frappe.db.commit()
		yield
	finally:
		frappe.db.rollback()
		frappe.delete_doc_if_exists("Custom Field", f"Batch-{PROBE_ON_BATCH}")
		frappe.delete_doc_if_exists("Custom Field", f"UDI Device Identifier-{PROBE_BY_CUSTOMIZE_FORM}")
		frappe.db.commit()


def add_fields_in_the_desk():
	frappe.get_doc(
		{"doctype": "Custom Field", "dt": "Batch", "module": "UDI", "fieldname": PROBE_ON_BATCH, "label": "Sterilisation Load",
		 "fieldtype": "Data", "length": 30, "description": "The steriliser load the lot went through.",
		 "mandatory_depends_on": "eval:doc.udi_device_identifier", "insert_after": "udi_digital_link"}
	).insert()
	customize_form = frappe.get_doc("Customize Form")
	customize_form.doc_type = "UDI Device Identifier"
	customize_form.fetch_to_customize()
	customize_form.append(
		"fields",
		{"label": "NMPA Category Code", "fieldtype": "Select", "options": "\nI\nII\nIII",
		 "reqd": 1, "is_custom_field": 1},
	)
	customize_form.save_customization()


def test_fields_added_in_the_desk_appear_without_code_changes(fields_added_in_the_desk):
	rows = by_field(dictionary())

	probe = rows[("Batch", PROBE_ON_BATCH)]
	assert probe["label"] == "Sterilisation Load"
	assert probe["meaning"] == "The steriliser load the lot went through."
	assert probe["format"] == "Data, up to 30 characters"
	assert probe["source_name"] == "MedTrace Custom Field"
	assert probe["mandatory"] == "When udi_device_identifier"

	customised = rows[("UDI Device Identifier", PROBE_BY_CUSTOMIZE_FORM)]
	assert customised["format"] == "Select: I | II | III"
	assert customised["source_name"] == "Site Custom Field"
	assert customised["mandatory"] == "Always"


def test_every_described_medtrace_field_appears_with_its_description():
	rows = by_field(dictionary())
	doctypes = frappe.get_all("DocType", filters={"module": ("in", list(medtrace_modules()))}, pluck="name")
	described = [
		(doctype, df) for doctype in doctypes for df in frappe.get_meta(doctype).fields if df.description
	]
	assert len(described) > 30
	for doctype, df in described:
		row = rows.get((doctype, df.fieldname))
		if df.fieldtype in ("Section Break", "Column Break", "Tab Break", "HTML", "Button"):
			assert row is None, f"layout field {doctype}.{df.fieldname} is listed"
			continue
		assert row, f"{doctype}.{df.fieldname} missing"
		assert row["meaning"] == df.description
		assert row["source_name"] == "MedTrace Doctype"


def test_gs1_ai_unit_and_conditions_of_the_fields_medtrace_relies_on():
	rows = by_field(dictionary())
	assert rows[("Batch", "expiry_date")]["gs1_ai"] == "AI 17"
	assert rows[("Batch", "expiry_date")]["source_name"] == "ERPNext Standard Field"
	assert "prints the expiration date" in rows[("Batch", "expiry_date")]["mandatory"]
	assert rows[("Serial No", "batch_no")]["gs1_ai"].startswith("AI 10")
	assert rows[("Serial No", "serial_no")]["gs1_ai"] == "AI 21: up to 20 characters of GS1 character set 82"
	assert rows[("Item", "shelf_life_in_days")]["unit"] == "days"
	assert rows[("Batch", "udi_element_string")]["source_name"] == "MedTrace Custom Field"
	contained = rows[("UDI Device Identifier", "quantity_per_package")]
	assert contained["unit"] == "units of the contained packaging level"
	assert contained["mandatory"] == "When packaging_level && packaging_level != 'Base Unit'"
	assert rows[("UDI Coding Rule", "parts")]["format"] == "Table of UDI Coding Rule Part"


def test_filters_narrow_the_dictionary():
	everything = dictionary()
	batch = dictionary(doctype="Batch")
	assert batch and {row["doctype_name"] for row in batch} == {"Batch"}
	assert len(batch) == sum(row["doctype_name"] == "Batch" for row in everything)
	erpnext = dictionary(source="ERPNext Standard Field")
	assert erpnext and {row["source_name"] for row in erpnext} == {"ERPNext Standard Field"}
	mandatory = dictionary(doctype="UDI Device Identifier", mandatory_only=1)
	assert mandatory and all(row["mandatory"] for row in mandatory)
	assert ("UDI Device Identifier", "basic_udi_di") not in by_field(mandatory)


@pytest.mark.parametrize(("role", "allowed"), [(QUALITY_APPROVER, True), (PRODUCTION_OPERATOR, False)])
def test_who_may_open_the_dictionary(role, allowed):
	email = f"dictionary.{frappe.scrub(role)}@medtrace-test.example"
	user = frappe.get_doc("User", email) if frappe.db.exists("User", email) else frappe.get_doc(
		{"doctype": "User", "email": email, "first_name": role, "send_welcome_email": 0}
	).insert(ignore_permissions=True)
	user.set("roles", [])
	user.add_roles(role)
	frappe.set_user(email)
	if allowed:
		assert dictionary(doctype="Batch")
	else:
		with pytest.raises(frappe.PermissionError):
			dictionary()
