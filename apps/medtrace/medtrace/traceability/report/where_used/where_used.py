# Copyright (c) 2026, MedTrace and contributors
# For license information, please see license.txt

"""Where-Used: the lots and serial numbers a component lot went into, at every level, with how much of the
component each holds (the quantities the trace links attribute, carried level by level)."""

import frappe
from frappe import _

from medtrace.traceability.api import trace_for_report
from medtrace.traceability.trace_views import component_quantities, report_columns, translated


def execute(filters=None):
	filters = frappe._dict(filters or {})
	# The item filter chooses the products shown; the trace passes through every item to carry the quantities.
	result = trace_for_report("Batch", filters.batch, "forward", {**filters, "item": None})
	held = component_quantities(result)
	consumed = {link["from"] for link in result["edges"]}
	component = next(node for node in result["nodes"] if node["node"] == result["query"]["node"])
	rows = []
	for node in result["nodes"]:
		end_product = node["node"] not in consumed
		if (
			node["depth"] == 0
			or node["doctype"] == "Work Order"
			or (filters.item and node["item"] != filters.item)
			or (filters.end_products_only and not end_product)
		):
			continue
		rows.append(
			{
				"depth": node["depth"],
				"name": node["name"],
				"node_doctype": node["doctype"],
				"record_type": translated(node["doctype"]),
				"item": node["item"],
				"item_name": node["item_name"],
				"udi": node["udi"],
				"qty": node["qty"],
				"uom": node["uom"],
				"component_qty": held.get(node["node"], 0),
				"component_uom": component["uom"],
				"in_stock": node["in_stock"],
				"end_product": 1 if end_product else 0,
			}
		)
	return columns(), rows


def columns() -> list[dict]:
	return report_columns([
		{"fieldname": "depth", "label": _("Depth"), "fieldtype": "Int", "width": 70},
		{"fieldname": "name", "label": _("Lot / Serial No"), "fieldtype": "Dynamic Link", "options": "node_doctype", "width": 200},
		{"fieldname": "node_doctype", "label": _("Record Type"), "fieldtype": "Data", "hidden": 1},
		{"fieldname": "record_type", "label": _("Record Type"), "fieldtype": "Data", "width": 110},
		{"fieldname": "item", "label": _("Item"), "fieldtype": "Link", "options": "Item", "width": 140},
		{"fieldname": "item_name", "label": _("Item Name"), "fieldtype": "Data", "width": 160},
		{"fieldname": "udi", "label": _("UDI"), "fieldtype": "Data", "width": 240},
		{"fieldname": "qty", "label": _("Qty"), "fieldtype": "Float", "width": 80},
		{"fieldname": "uom", "label": _("UOM"), "fieldtype": "Data", "width": 70},
		{"fieldname": "component_qty", "label": _("Component Qty Contained"), "fieldtype": "Float", "width": 150},
		{"fieldname": "component_uom", "label": _("Component UOM"), "fieldtype": "Data", "width": 100},
		{"fieldname": "in_stock", "label": _("In Stock"), "fieldtype": "Float", "width": 80},
		{"fieldname": "end_product", "label": _("End Product"), "fieldtype": "Check", "width": 90},
	])
