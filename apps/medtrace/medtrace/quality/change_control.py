"""Change control: what a Change Request does, and the records only an approved one may change.

Records under change control — a released UDI-DI's regulated attributes, the requirements of a Device
Master Record that DHRs already follow, a released Device History Record — change only while an approved
Change Request that lists them is being implemented (its Changes to Apply are written inside
``via_change_request``, so every Version of the change names the request).
"""

import frappe
from frappe import _
from frappe.model import no_value_fields, table_fields
from frappe.query_builder import DocType
from frappe.query_builder.functions import Sum
from frappe.utils import now_datetime

from medtrace.audit.audit_trail import via_change_request

CHANGE_REQUEST = "Change Request"
# States in which a Change Request authorises changes: approved, and being implemented.
AUTHORISING_STATUSES = ("Approved", "Implemented")
# A UDI-DI's lifecycle status moves by its own workflow; its item name follows the item.
UDI_DI_UNREGULATED_FIELDS = frozenset({"status", "item_name"})


# Records under change control


def refuse_uncontrolled_change(doc, what: str) -> None:
	if not authorising_change_request(doc.doctype, doc.name):
		frappe.throw(
			_("{0} {1} is under change control: {2} changes only through an approved Change Request that lists it.").format(
				_(doc.doctype), frappe.bold(doc.name), what
			),
			title=_("Change Request Required"),
		)


def authorising_change_request(doctype: str, name: str) -> str | None:
	"""The approved Change Request whose changes are being applied, if it lists the record."""
	change_request = frappe.flags.medtrace_change_request
	if not change_request:
		return None
	if frappe.db.get_value(CHANGE_REQUEST, change_request, "status") not in AUTHORISING_STATUSES:
		return None
	Affected = DocType("Change Request Affected Record")
	listed = (
		frappe.qb.from_(Affected)
		.select(Affected.name)
		.where(
			(Affected.parent == change_request)
			& (Affected.parenttype == CHANGE_REQUEST)
			& (Affected.reference_doctype == doctype)
			& (Affected.reference_name == name)
		)
		.run()
	)
	return change_request if listed else None


def changed_fields(doc, fields) -> list[str]:
	"""Labels of the fields (tables compared row by row) whose values differ from the stored document."""
	before = doc.get_doc_before_save()
	if not before:
		return []
	changed = []
	for df in fields:
		if df.fieldtype in table_fields:
			if table_content(before.get(df.fieldname)) != table_content(doc.get(df.fieldname)):
				changed.append(_(df.label))
		elif (before.get(df.fieldname) or None) != (doc.get(df.fieldname) or None):
			changed.append(_(df.label))
	return changed


def table_content(rows) -> list[tuple]:
	return [
		tuple((df.fieldname, row.get(df.fieldname) or None) for df in row.meta.fields if df.fieldtype not in no_value_fields)
		for row in rows or []
	]


def guard_udi_device_identifier(di) -> None:
	"""A released UDI-DI's attributes are what was filed with the UDI databases."""
	before = di.get_doc_before_save()
	if not before or before.status != "Released":
		return
	regulated = [df for df in di.meta.fields if df.fieldtype not in no_value_fields or df.fieldtype in table_fields]
	changed = changed_fields(di, [df for df in regulated if df.fieldname not in UDI_DI_UNREGULATED_FIELDS])
	if changed:
		refuse_uncontrolled_change(di, ", ".join(changed))


def guard_device_master_record(dmr) -> None:
	"""Requirements that DHRs were already built against change only under change control."""
	if dmr.is_new() or not frappe.db.exists("Device History Record", {"device_master_record": dmr.name}):
		return
	changed = changed_fields(dmr, [dmr.meta.get_field(fieldname) for fieldname in ("requirements", "bom", "revision", "item")])
	if changed:
		refuse_uncontrolled_change(dmr, ", ".join(changed))


# Impact assessment


def assess_impact(change_request) -> int:
	"""Add what depends on the affected items and UDI-DIs to the affected records; returns how many rows
	were added."""
	listed = {(row.reference_doctype, row.reference_name) for row in change_request.affected_records}
	items = {row.reference_name for row in change_request.affected_records if row.reference_doctype == "Item"}
	items |= {
		frappe.db.get_value("UDI Device Identifier", row.reference_name, "item")
		for row in change_request.affected_records
		if row.reference_doctype == "UDI Device Identifier"
	}
	added = 0
	for doctype, name, impact in dependents_of_items(items - {None}):
		if (doctype, name) not in listed:
			change_request.append(
				"affected_records",
				{"reference_doctype": doctype, "reference_name": name, "impact": impact, "found_by": "Impact Assessment"},
			)
			listed.add((doctype, name))
			added += 1
	return added


def dependents_of_items(items: set[str]):
	"""(doctype, name, why) of the records that follow from the items."""
	for item in sorted(items):
		for di in frappe.get_all("UDI Device Identifier", filters={"item": item}, pluck="name"):
			yield "UDI Device Identifier", di, _("UDI-DI of item {0}").format(item)
		for dmr in frappe.get_all("Device Master Record", filters={"item": item}, pluck="name"):
			yield "Device Master Record", dmr, _("Device Master Record of item {0}").format(item)
		for bom, routing in frappe.get_all("BOM", filters={"item": item, "is_active": 1, "docstatus": 1}, fields=["name", "routing"], as_list=True):
			yield "BOM", bom, _("Active BOM of item {0}").format(item)
			if routing:
				yield "Routing", routing, _("Routing of BOM {0}").format(bom)
		for bom in frappe.get_all(
			"BOM Item", filters={"item_code": item, "parenttype": "BOM", "docstatus": 1}, pluck="parent", distinct=True
		):
			yield "BOM", bom, _("BOM that uses item {0}").format(item)
		for batch in open_lots(item):
			yield "Batch", batch, _("Lot of item {0} in stock").format(item)
		for work_order in frappe.get_all(
			"Work Order", filters={"production_item": item, "docstatus": 1, "status": ("not in", ("Completed", "Stopped", "Closed"))}, pluck="name"
		):
			yield "Work Order", work_order, _("Open Work Order of item {0}").format(item)


def open_lots(item: str) -> list[str]:
	Ledger = DocType("Stock Ledger Entry")
	Bundle, Entry = DocType("Serial and Batch Bundle"), DocType("Serial and Batch Entry")
	return (
		frappe.qb.from_(Entry)
		.join(Bundle)
		.on(Bundle.name == Entry.parent)
		.join(Ledger)
		.on(Ledger.serial_and_batch_bundle == Bundle.name)
		.select(Entry.batch_no)
		.where((Bundle.item_code == item) & (Ledger.is_cancelled == 0) & Entry.batch_no.isnotnull())
		.groupby(Entry.batch_no)
		.having(Sum(Entry.qty) > 0)
		.orderby(Entry.batch_no)
		.run(pluck=True)
	)


# Changes to apply


def target_of(change) -> tuple:
	"""The document a change row writes, and the row of its table when the change is to a table row."""
	meta = frappe.get_meta(change.reference_doctype)
	if not meta.istable:
		return frappe.get_doc(change.reference_doctype, change.reference_name), None
	parenttype, parent = frappe.db.get_value(change.reference_doctype, change.reference_name, ["parenttype", "parent"])
	doc = frappe.get_doc(parenttype, parent)
	row = next(row for row in doc.get_all_children() if row.name == change.reference_name)
	return doc, row


def validate_change(change, listed: set) -> None:
	if not frappe.db.exists(change.reference_doctype, change.reference_name):
		frappe.throw(_("Changes row {0}: {1} {2} does not exist.").format(change.idx, _(change.reference_doctype), change.reference_name))
	doc, row = target_of(change)
	if (doc.doctype, doc.name) not in listed:
		frappe.throw(
			_("Changes row {0}: {1} {2} is not among the affected records; add it there first.").format(
				change.idx, _(doc.doctype), frappe.bold(doc.name)
			)
		)
	df = (row or doc).meta.get_field(change.fieldname)
	if not df or df.fieldtype in no_value_fields or df.fieldtype in table_fields or df.fieldname == "name":
		frappe.throw(
			_("Changes row {0}: {1} has no field {2} that holds a value.").format(change.idx, _(change.reference_doctype), frappe.bold(change.fieldname))
		)
	change.field_label = df.label
	change.current_value = as_text((row or doc).get(change.fieldname))


def apply_changes(change_request) -> None:
	"""Write the Changes to Apply, as the Change Request, through each record's own validation."""
	with via_change_request(change_request.name):
		for change in change_request.proposed_changes:
			doc, row = target_of(change)
			target = row or doc
			value_before = target.get(change.fieldname)
			target.set(change.fieldname, change.new_value if change.new_value != "" else None)
			doc.flags.ignore_permissions = True  # approved by signature; the implementer need not own the record
			doc.save()
			change.db_set(
				{"applied_on": now_datetime(), "value_before": as_text(value_before), "current_value": as_text(target.get(change.fieldname))}
			)


def as_text(value) -> str | None:
	return None if value is None else str(value)
