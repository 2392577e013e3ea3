# Copyright (c) 2026, MedTrace and contributors
# For license information, please see license.txt

"""Audit Trail: who created, changed, deleted or renamed which audited record, when, from what to what,
through which channel and request, and under which Change Request.

Read from the audit chain rather than from Version: the chain also holds creations, deletions and
renames, and keeps the changes of records that have since been deleted."""

import json

import frappe
from frappe import _
from frappe.query_builder import DocType
from frappe.utils import add_days, cstr, escape_html

from medtrace.utils.filters import checked_date, checked_name

MAX_ENTRIES = 20000


def execute(filters=None):
	filters = frappe._dict(filters or {})
	entries = fetch_entries(filters)
	metas = {}
	return columns(), [row for entry in entries for row in entry_rows(entry, metas)]


def columns() -> list[dict]:
	return [
		{"fieldname": "timestamp", "label": _("Date and Time"), "fieldtype": "Datetime", "width": 170},
		# Data, not Link: the report applies user permissions of every Link column's doctype, and auditors
		# need not read DocType or User records.
		{"fieldname": "user", "label": _("User"), "fieldtype": "Data", "width": 170},
		{"fieldname": "ref_doctype", "label": _("Document Type"), "fieldtype": "Data", "width": 150},
		{"fieldname": "ref_name", "label": _("Record"), "fieldtype": "Dynamic Link", "options": "ref_doctype", "width": 170},
		{"fieldname": "event", "label": _("Event"), "fieldtype": "Data", "width": 100},
		{"fieldname": "field", "label": _("Field"), "fieldtype": "Data", "width": 170},
		{"fieldname": "old_value", "label": _("Old Value"), "fieldtype": "Data", "width": 170},
		{"fieldname": "new_value", "label": _("New Value"), "fieldtype": "Data", "width": 170},
		{"fieldname": "channel", "label": _("Channel"), "fieldtype": "Data", "width": 110},
		{"fieldname": "request", "label": _("Request / API"), "fieldtype": "Data", "width": 230},
		{"fieldname": "change_request", "label": _("Change Request"), "fieldtype": "Data", "width": 140},
		{"fieldname": "audit_entry", "label": _("Audit Entry"), "fieldtype": "Link", "options": "Audit Chain Entry", "width": 150},
	]


def fetch_entries(filters) -> list[dict]:
	from_date, to_date = checked_date(filters.from_date, _("From Date")), checked_date(filters.to_date, _("To Date"))
	if not from_date or not to_date:
		frappe.throw(_("Choose the period to show: From Date and To Date."))
	if from_date > to_date:
		frappe.throw(_("From Date {0} is after To Date {1}.").format(from_date, to_date))
	Entry = DocType("Audit Chain Entry")
	query = (
		frappe.qb.from_(Entry)
		.select(
			Entry.name, Entry.sequence, Entry.event, Entry.ref_doctype, Entry.ref_name, Entry.user, Entry.timestamp,
			Entry.source_doctype, Entry.content,
		)
		.where((Entry.timestamp >= from_date) & (Entry.timestamp < add_days(to_date, 1)))
		.orderby(Entry.timestamp)
		.orderby(Entry.sequence)
		.limit(MAX_ENTRIES + 1)
	)
	for field, label in (("ref_doctype", _("Document Type")), ("ref_name", _("Record")), ("user", _("User"))):
		if value := checked_name(filters.get(field), label):
			query = query.where(Entry[field] == value)
	entries = query.run(as_dict=True)
	if len(entries) > MAX_ENTRIES:
		frappe.msgprint(
			_("Only the first {0} entries of this period are shown; narrow the dates or filter by document type, record or user.").format(MAX_ENTRIES),
			indicator="orange",
		)
		entries = entries[:MAX_ENTRIES]
	readable = {doctype: can_read(doctype) for doctype in {entry.ref_doctype for entry in entries}}
	return [entry for entry in entries if readable[entry.ref_doctype]]


def can_read(doctype: str) -> bool:
	# A record's audit trail shows its data: only to whoever may read the record's doctype.
	return bool(frappe.db.exists("DocType", doctype)) and frappe.has_permission(doctype, "read")


def entry_rows(entry, metas: dict) -> list[dict]:
	content = json.loads(entry.content or "{}")
	data = json.loads(content.get("data") or "{}") if entry.source_doctype == "Version" else content
	base = {
		"timestamp": entry.timestamp,
		"user": entry.user,
		"ref_doctype": entry.ref_doctype,
		"ref_name": entry.ref_name,
		"event": _(entry.event),
		"channel": _(channel) if (channel := data.get("medtrace_channel")) else None,
		"request": escape_html(cstr(data.get("medtrace_request"))),
		"change_request": escape_html(cstr(data.get("medtrace_change_request"))),
		"audit_entry": entry.name,
	}
	if entry.event == "Renamed":
		return [{**base, "field": _("Name"), "old_value": escape_html(content["from"]), "new_value": escape_html(content["to"])}]
	changes = list(field_changes(entry.ref_doctype, data, metas)) if entry.source_doctype == "Version" else []
	return [{**base, **change} for change in changes] or [base]


def field_changes(doctype: str, data: dict, metas: dict):
	"""One row per changed field, child-table row added or removed, and changed field of a child row."""
	for fieldname, old, new in data.get("changed", []):
		yield change(label(doctype, fieldname, metas), old, new)
	for table, row in data.get("added", []):
		yield change(_("{0}: row {1} added").format(label(doctype, table, metas), row.get("idx")), None, None)
	for table, row in data.get("removed", []):
		yield change(_("{0}: row {1} removed").format(label(doctype, table, metas), row.get("idx")), None, None)
	for table, index, _row_name, row_changes in data.get("row_changed", []):
		table_field = field(doctype, table, metas)
		child = table_field.options if table_field else None
		for fieldname, old, new in row_changes:
			yield change(
				_("{0} row {1}: {2}").format(label(doctype, table, metas), index + 1, label(child, fieldname, metas)), old, new
			)


def change(field_label: str, old, new) -> dict:
	return {"field": field_label, "old_value": escape_html(cstr(old)), "new_value": escape_html(cstr(new))}


def field(doctype: str | None, fieldname: str, metas: dict):
	"""The field's definition; None when its doctype is gone (records of a removed app stay in the trail)."""
	if doctype not in metas:
		metas[doctype] = frappe.get_meta(doctype) if doctype and frappe.db.exists("DocType", doctype) else None
	return metas[doctype].get_field(fieldname) if metas[doctype] else None


def label(doctype: str | None, fieldname: str, metas: dict) -> str:
	df = field(doctype, fieldname, metas)
	return _(df.label) if df and df.label else fieldname
