# Copyright (c) 2026, MedTrace and contributors
# For license information, please see license.txt

"""Serial History: one serial number's whole life in time order — made (from what), received, moved,
inspected, delivered, returned, consumed (into what) — with the document, warehouse and party of each."""

import frappe
from frappe import _

from medtrace.traceability.api import trace_for_report
from medtrace.traceability.trace_links import parse_node_key
from medtrace.traceability.trace_views import report_columns, serial_history, translated


def execute(filters=None):
	filters = frappe._dict(filters or {})
	made = trace_for_report("Serial No", filters.serial_no, "backward", filters, depth=1)
	used = trace_for_report("Serial No", filters.serial_no, "forward", filters, depth=1)
	rows = [
		{
			"posting_datetime": row["posting_datetime"],
			"event": translated(row["event"]),
			"direction": {"In": _("In"), "Out": _("Out")}.get(row["direction"]),
			"qty": row["qty"],
			"warehouse": row["warehouse"],
			"voucher_type": row["voucher_type"],
			"document_type": translated(row["voucher_type"]),
			"voucher_no": row["voucher_no"],
			"party_type": row["party_type"],
			"party": row["party"],
			"address": row["address"],
			"related": ", ".join(parse_node_key(node)[1] for node in row["related"]),
			"status": translated(row["status"]),
		}
		for row in serial_history(made, used)
	]
	return columns(), rows


def columns() -> list[dict]:
	return report_columns([
		{"fieldname": "posting_datetime", "label": _("Date and Time"), "fieldtype": "Datetime", "width": 160},
		{"fieldname": "event", "label": _("Event"), "fieldtype": "Data", "width": 140},
		{"fieldname": "direction", "label": _("In / Out"), "fieldtype": "Data", "width": 70},
		{"fieldname": "qty", "label": _("Qty"), "fieldtype": "Float", "width": 60},
		# Data, not Link: a report refuses users who cannot read a Link column's doctype, and tracing needs no
		# access to warehouses or addresses.
		{"fieldname": "warehouse", "label": _("Warehouse"), "fieldtype": "Data", "width": 160},
		{"fieldname": "voucher_type", "label": _("Document Type"), "fieldtype": "Data", "hidden": 1},
		{"fieldname": "document_type", "label": _("Document Type"), "fieldtype": "Data", "width": 130},
		{"fieldname": "voucher_no", "label": _("Document"), "fieldtype": "Dynamic Link", "options": "voucher_type", "width": 170},
		{"fieldname": "party_type", "label": _("Party Type"), "fieldtype": "Data", "hidden": 1},
		{"fieldname": "party", "label": _("Party"), "fieldtype": "Dynamic Link", "options": "party_type", "width": 170},
		{"fieldname": "address", "label": _("Address"), "fieldtype": "Data", "width": 170},
		{"fieldname": "related", "label": _("Made From / Went Into"), "fieldtype": "Data", "width": 220},
		{"fieldname": "status", "label": _("Inspection Result"), "fieldtype": "Data", "width": 110},
	])
