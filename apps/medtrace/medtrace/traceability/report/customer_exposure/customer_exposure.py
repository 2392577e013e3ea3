# Copyright (c) 2026, MedTrace and contributors
# For license information, please see license.txt

"""Customer Exposure: which customers received a lot (or the lots of a supplier lot or of a supplier) or
anything made from it, how much net of returns, on which delivery notes and returns, shipped where — the
list a field action starts from."""

import frappe
from frappe import _

from medtrace.traceability.api import SUPPLIER_STARTS, trace_for_report
from medtrace.traceability.trace_views import customer_deliveries, report_columns


def execute(filters=None):
	filters = frappe._dict(filters or {})
	result = trace_for_report("Batch", filters.batch, "forward", filters, other_starts=SUPPLIER_STARTS)
	rows = [
		{
			"customer": row["customer"],
			"customer_name": row["customer_name"],
			"name": row["node"]["name"],
			"node_doctype": row["node"]["doctype"],
			"item": row["node"]["item"],
			"item_name": row["node"]["item_name"],
			"delivered_qty": row["delivered_qty"],
			"returned_qty": row["returned_qty"],
			"net_qty": row["net_qty"],
			"documents": ", ".join(row["documents"]),
			"address": "; ".join(address.get("address_display") or address["address"] for address in row["addresses"]),
		}
		for row in customer_deliveries(result)
	]
	return columns(), rows


def columns() -> list[dict]:
	return report_columns([
		{"fieldname": "customer", "label": _("Customer"), "fieldtype": "Link", "options": "Customer", "width": 170},
		{"fieldname": "customer_name", "label": _("Customer Name"), "fieldtype": "Data", "width": 180},
		{"fieldname": "name", "label": _("Lot / Serial No"), "fieldtype": "Dynamic Link", "options": "node_doctype", "width": 180},
		{"fieldname": "node_doctype", "label": _("Record Type"), "fieldtype": "Data", "hidden": 1},
		{"fieldname": "item", "label": _("Item"), "fieldtype": "Link", "options": "Item", "width": 140},
		{"fieldname": "item_name", "label": _("Item Name"), "fieldtype": "Data", "width": 160},
		{"fieldname": "delivered_qty", "label": _("Delivered Qty"), "fieldtype": "Float", "width": 100},
		{"fieldname": "returned_qty", "label": _("Returned Qty"), "fieldtype": "Float", "width": 100},
		{"fieldname": "net_qty", "label": _("Net Qty"), "fieldtype": "Float", "width": 90},
		{"fieldname": "documents", "label": _("Delivery Notes and Returns"), "fieldtype": "Data", "width": 220},
		{"fieldname": "address", "label": _("Shipping Address"), "fieldtype": "Data", "width": 300},
	])
