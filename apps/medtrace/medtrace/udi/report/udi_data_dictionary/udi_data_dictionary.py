# Copyright (c) 2026, MedTrace and contributors
# For license information, please see license.txt

"""UDI Data Dictionary: every traceability field MedTrace adds or relies on, with its meaning, format,
unit, source and when it is mandatory.

Built from the live metadata — MedTrace's doctypes, the custom fields of MedTrace modules on ERPNext
doctypes (both as customised on this site) and a short list of ERPNext's own fields MedTrace reads — so
it never drifts from what the site holds. Only what metadata cannot say (GS1 AI, unit, conditions
enforced in code) is kept here, keyed by fieldname."""

import frappe
from frappe import _, _lt
from frappe.model import no_value_fields

from medtrace.audit.audited import medtrace_modules

MEDTRACE_DOCTYPE = "MedTrace Doctype"
MEDTRACE_CUSTOM_FIELD = "MedTrace Custom Field"
SITE_CUSTOM_FIELD = "Site Custom Field"
ERPNEXT_FIELD = "ERPNext Standard Field"

MODULE_ORDER = ("UDI", "Traceability", "Quality", "Recall", "MedTrace Setup", "MedTrace Integrations")
# Tables are listed (they link a record to its rows); the other value-less fieldtypes are layout.
LISTED_VALUELESS = {"Table", "Table MultiSelect"}
DEFAULT_LENGTH = {"Data": 140}

# ERPNext's own fields MedTrace's traceability reads, and why.
RELIED_ON = {
	("Item", "has_batch_no"): _lt("The item is lot-controlled: its batches carry the lot of the UDI (AI 10)."),
	("Item", "has_serial_no"): _lt("The item is serialised: each unit carries a serial number in its UDI (AI 21)."),
	("Item", "has_expiry_date"): _lt("Batches of the item expire; their expiry date goes on the label (AI 17)."),
	("Item", "shelf_life_in_days"): _lt("Gives a new batch its expiry date from its manufacturing date."),
	("Item", "create_new_batch"): _lt("ERPNext creates the batch of a receipt or manufacture itself; a Lot coding rule names it."),
	("Batch", "batch_id"): _lt("The lot number printed in the UDI."),
	("Batch", "item"): _lt("The item, hence the device identifier, of the lot."),
	("Batch", "manufacturing_date"): _lt("Date of manufacture printed in the UDI when the DI's label carries it."),
	("Batch", "expiry_date"): _lt("Expiration date printed in the UDI when the DI's label carries it."),
	("Batch", "supplier"): _lt("Supplier of a purchased lot, for backward traces."),
	("Batch", "reference_doctype"): _lt("Type of the receipt or manufacture entry that created the lot."),
	("Batch", "reference_name"): _lt("The receipt or manufacture entry that created the lot."),
	("Serial No", "serial_no"): _lt("The serial number printed in the UDI."),
	("Serial No", "item_code"): _lt("The item, hence the device identifier, of the unit."),
	("Serial No", "batch_no"): _lt("The lot the unit belongs to; printed with the serial number when the DI's label carries a lot."),
	("Serial No", "warehouse"): _lt("Where the unit is now; empty once delivered."),
	("Serial No", "status"): _lt("Whether the unit is in stock, delivered or inactive."),
	("Serial and Batch Entry", "batch_no"): _lt("The lot a stock transaction moved: the source of every trace link."),
	("Serial and Batch Entry", "serial_no"): _lt("The unit a stock transaction moved: the source of every trace link."),
	("Serial and Batch Entry", "qty"): _lt("Quantity moved; positive into stock, negative out of it."),
	("Quality Inspection", "batch_no"): _lt("The lot inspected; its Device History Record lists the inspection."),
	("Quality Inspection", "item_serial_no"): _lt("The unit inspected; its Device History Record lists the inspection."),
}

LOT_AI = _lt("AI 10: up to 20 characters of GS1 character set 82")
SERIAL_AI = _lt("AI 21: up to 20 characters of GS1 character set 82")
GS1_AI = {
	"udi_di": _lt("AI 01 (GTIN-14) or HIBC labeler code + product + unit of measure"),
	"contained_di": "AI 01",
	"udi_device_identifier": "AI 01",
	"batch_id": LOT_AI,
	"batch_no": LOT_AI,
	"medtrace_batch_no": LOT_AI,
	"label_lot": "AI 10",
	"serial_no": SERIAL_AI,
	"item_serial_no": SERIAL_AI,
	"medtrace_serial_no": SERIAL_AI,
	"label_serial": "AI 21",
	"expiry_date": "AI 17",
	"udi_expiry_date": "AI 17",
	"label_expiry_date": "AI 17",
	"manufacturing_date": "AI 11",
	"udi_manufacture_date": "AI 11",
	"label_manufacture_date": "AI 11",
	"udi_pi": _lt("AI 11, 17, 10, 21 as the label carries them"),
	"udi_element_string": _lt("GS1 element string: AI 01 followed by the UDI-PI"),
	"udi_digital_link": _lt("GS1 Digital Link URI"),
}

UNITS = {
	"shelf_life_in_days": _lt("days"),
	"grace_period_days": _lt("days"),
	"quantity_per_package": _lt("units of the contained packaging level"),
	"qty": _lt("stock unit of the item"),
	"produced_qty": _lt("stock unit of the item"),
	"output_qty": _lt("stock unit of the item"),
	"attributed_qty": _lt("stock unit of the item"),
	"value": _lt("as given in the record's Unit"),
	"max_trace_depth": _lt("levels of genealogy"),
	"sequence_digits": _lt("digits"),
	"attempts": _lt("attempts"),
	"max_attempts": _lt("attempts"),
	"signature_lockout_attempts": _lt("attempts"),
}

# Mandatory by code rather than by the field's own settings.
CONDITIONS = {
	("Batch", "expiry_date"): _lt("When the item's released DI prints the expiration date (AI 17)"),
	("Batch", "manufacturing_date"): _lt("When the item's released DI prints the manufacturing date (AI 11)"),
	("Serial No", "batch_no"): _lt("When the item is also lot-controlled (ERPNext); printed when the DI requires a lot"),
	("Serial No", "udi_expiry_date"): _lt("When the DI prints the expiration date and the unit's batch has none"),
	("Serial No", "udi_manufacture_date"): _lt("When the DI prints the manufacturing date and the unit's batch has none"),
	("Item", "has_batch_no"): _lt("Ticked when a DI of the item prints the lot"),
	("Item", "has_serial_no"): _lt("Ticked when a DI of the item prints the serial number"),
}


def execute(filters=None):
	filters = frappe._dict(filters or {})
	rows = [row for row in dictionary_rows() if matches(row, filters)]
	return columns(), rows


def columns() -> list[dict]:
	# Data, not Link, for the document type: the report would otherwise require read rights on DocType.
	# Aligned left explicitly: the grid right-aligns a column whose first value is empty, as if numeric.
	return [
		{"fieldname": fieldname, "label": label, "fieldtype": "Data", "width": width, "align": "left"}
		for fieldname, label, width in (
			("doctype", _("Document Type"), 170),
			("label", _("Field"), 190),
			("fieldname", _("Fieldname"), 170),
			("meaning", _("Meaning"), 320),
			("format", _("Format"), 220),
			("gs1_ai", _("GS1 AI"), 150),
			("unit", _("Unit"), 120),
			("source", _("Source"), 180),
			("mandatory", _("Mandatory When"), 260),
		)
	]


def matches(row: dict, filters) -> bool:
	return (
		(not filters.doctype or row["doctype_name"] == filters.doctype)
		and (not filters.source or row["source_name"] == filters.source)
		and (not filters.mandatory_only or bool(row["mandatory"]))
	)


def dictionary_rows() -> list[dict]:
	"""The ERPNext records traceability runs on first (their standard fields MedTrace relies on, then the
	fields MedTrace adds to them), then MedTrace's doctypes module by module."""
	modules = medtrace_modules()
	custom_fields = medtrace_custom_fields(modules)
	relied_on = {}
	for doctype, fieldname in RELIED_ON:
		relied_on.setdefault(doctype, []).append(fieldname)
	rows = []
	for doctype in {**relied_on, **custom_fields}:
		meta = frappe.get_meta(doctype)
		fields = [meta.get_field(fieldname) for fieldname in relied_on.get(doctype, []) + custom_fields.get(doctype, [])]
		rows += [field_row(doctype, df, modules) for df in fields if df]
	for doctype in medtrace_doctypes(modules):
		rows += [field_row(doctype, df, modules) for df in frappe.get_meta(doctype).fields if is_listed(df)]
	return rows


def medtrace_doctypes(modules) -> list[str]:
	doctypes = frappe.get_all("DocType", filters={"module": ("in", list(modules))}, fields=["name", "module"], order_by="name")
	return [doctype.name for doctype in sorted(doctypes, key=lambda doctype: module_position(doctype.module))]


def module_position(module: str) -> int:
	return MODULE_ORDER.index(module) if module in MODULE_ORDER else len(MODULE_ORDER)


def medtrace_custom_fields(modules) -> dict[str, list[str]]:
	"""Custom fields of MedTrace modules on other apps' doctypes, by doctype, in form order."""
	fields = frappe.get_all(
		"Custom Field",
		filters={"module": ("in", list(modules))},
		fields=["dt", "fieldname", "fieldtype"],
		order_by="dt, idx",
	)
	on_medtrace_doctype = {dt: frappe.get_meta(dt).module in modules for dt in {field.dt for field in fields}}
	by_doctype = {}
	for field in fields:
		if not on_medtrace_doctype[field.dt] and is_listed(field):
			by_doctype.setdefault(field.dt, []).append(field.fieldname)
	return by_doctype


def is_listed(df) -> bool:
	return df.fieldtype not in no_value_fields or df.fieldtype in LISTED_VALUELESS


def field_row(doctype: str, df, modules) -> dict:
	source = field_source(doctype, df, modules)
	meaning = RELIED_ON.get((doctype, df.fieldname)) or (_(df.description) if df.description else "")
	return {
		"doctype": _(doctype),
		"doctype_name": doctype,
		"label": _(df.label) if df.label else "",
		"fieldname": df.fieldname,
		"meaning": str(meaning),
		"format": field_format(df),
		"gs1_ai": str(GS1_AI.get(df.fieldname, "")),
		"unit": str(UNITS.get(df.fieldname, "")),
		"source": _(source),
		"source_name": source,
		"mandatory": mandatory_when(doctype, df),
	}


def field_source(doctype: str, df, modules) -> str:
	if df.get("is_custom_field"):
		return MEDTRACE_CUSTOM_FIELD if df.get("module") in modules else SITE_CUSTOM_FIELD
	if frappe.get_meta(doctype).module in modules:
		return MEDTRACE_DOCTYPE
	return ERPNEXT_FIELD


def field_format(df) -> str:
	fieldtype = _(df.fieldtype)
	if df.fieldtype == "Link":
		return _("Link to {0}").format(_(df.options))
	if df.fieldtype == "Dynamic Link":
		return _("Link to the document type given in {0}").format(df.options)
	if df.fieldtype in LISTED_VALUELESS:
		return _("Table of {0}").format(_(df.options))
	if df.fieldtype == "Select":
		options = [_(option) for option in (df.options or "").split("\n") if option]
		return _("Select: {0}").format(" | ".join(options))
	if df.fieldtype == "Check":
		return _("Check (0 or 1)")
	if df.fieldtype == "Date":
		return _("Date (YYYY-MM-DD)")
	length = df.length or DEFAULT_LENGTH.get(df.fieldtype)
	if df.options and df.fieldtype == "Data":
		fieldtype = f"{fieldtype} ({_(df.options)})"
	return _("{0}, up to {1} characters").format(fieldtype, length) if length else fieldtype


def mandatory_when(doctype: str, df) -> str:
	conditions = []
	if df.reqd:
		conditions.append(_("Always"))
	if df.mandatory_depends_on:
		conditions.append(_("When {0}").format(df.mandatory_depends_on.removeprefix("eval:").replace("doc.", "")))
	if (doctype, df.fieldname) in CONDITIONS:
		conditions.append(str(CONDITIONS[(doctype, df.fieldname)]))
	return "; ".join(conditions)
