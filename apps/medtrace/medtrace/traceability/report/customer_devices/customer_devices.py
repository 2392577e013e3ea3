# Copyright (c) 2026, MedTrace and contributors
# For license information, please see license.txt

"""Customer Devices: every lot and serial number delivered to a customer — item, lot, serial, UDI, the
delivery notes and returns, whether the customer still holds it, and what it contains (every lot and serial
number upstream of it, and the supplier lots among them): what a field action letter lists per hospital.
The customer's backward trace (medtrace.traceability.engine), exportable from the report's menu."""

import frappe
from frappe import _

from medtrace.traceability.api import trace_for_report
from medtrace.traceability.trace_views import customer_devices, record_cells, record_columns, report_columns


def execute(filters=None):
	filters = frappe._dict(filters or {})
	if not filters.customer:
		frappe.throw(_("Choose the {0} to trace.").format(_("Customer")), title=_("Missing Filter"))
	# The item filter chooses the devices listed; the trace passes through every item to find their contents.
	result = trace_for_report("Customer", None, "backward", {**filters, "item": None}, other_starts=("customer",))
	rows = [
		{
			**record_cells(row),
			"lot": row["lot"],
			"serial_no": row["serial_no"],
			"udi": row["udi"],
			"delivered_qty": row["delivered_qty"],
			"returned_qty": row["returned_qty"],
			"net_qty": row["net_qty"],
			"return_status": row["return_status"],
			"documents": ", ".join(row["documents"]),
			"first_delivered": row["first_delivered"],
			"address": "; ".join(address.get("address_display") or address["address"] for address in row["addresses"]),
			"contains": ", ".join(row["contains"]),
			"supplier_lots": ", ".join(row["supplier_lots"]),
		}
		for row in customer_devices(result)
		if (not filters.item or row["item"] == filters.item) and (not filters.held_only or row["net_qty"] > 0)
	]
	return columns(), rows


def columns() -> list[dict]:
	return report_columns([
		*record_columns(),
		{"fieldname": "lot", "label": _("Lot"), "fieldtype": "Data", "width": 130},
		{"fieldname": "serial_no", "label": _("Serial No"), "fieldtype": "Data", "width": 130},
		{"fieldname": "udi", "label": _("UDI"), "fieldtype": "Data", "width": 260},
		{"fieldname": "delivered_qty", "label": _("Delivered Qty"), "fieldtype": "Float", "width": 100},
		{"fieldname": "returned_qty", "label": _("Returned Qty"), "fieldtype": "Float", "width": 100},
		{"fieldname": "net_qty", "label": _("Net Qty"), "fieldtype": "Float", "width": 80},
		{"fieldname": "return_status", "label": _("Return Status"), "fieldtype": "Data", "width": 120},
		{"fieldname": "documents", "label": _("Delivery Notes and Returns"), "fieldtype": "Data", "width": 220},
		{"fieldname": "first_delivered", "label": _("First Delivered"), "fieldtype": "Datetime", "width": 160},
		{"fieldname": "address", "label": _("Shipping Address"), "fieldtype": "Data", "width": 260},
		{"fieldname": "contains", "label": _("Contains"), "fieldtype": "Data", "width": 300},
		{"fieldname": "supplier_lots", "label": _("Supplier Lots"), "fieldtype": "Data", "width": 260},
	])
