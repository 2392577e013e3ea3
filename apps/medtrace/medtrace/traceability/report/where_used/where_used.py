# Copyright (c) 2026, MedTrace and contributors
# For license information, please see license.txt

"""Where-Used: the lots and serial numbers a component lot (or the lots of a supplier lot) went into, at
every level, with how much of the component each holds (the quantities the trace links attribute, carried
level by level)."""

import frappe
from frappe import _

from medtrace.traceability.api import trace_for_report
from medtrace.traceability.trace_views import component_quantities, node_cells, node_columns, report_columns


def execute(filters=None):
	filters = frappe._dict(filters or {})
	# The item filter chooses the products shown; the trace passes through every item to carry the quantities.
	result = trace_for_report("Batch", filters.batch, "forward", {**filters, "item": None}, other_starts=("supplier_lot",))
	held = component_quantities(result)
	consumed = {link["from"] for link in result["edges"]}
	component = next(node for node in result["nodes"] if node["node"] in result["query"]["start"]["nodes"])
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
				**node_cells(node),
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
		*node_columns(),
		{"fieldname": "component_qty", "label": _("Component Qty Contained"), "fieldtype": "Float", "width": 150},
		{"fieldname": "component_uom", "label": _("Component UOM"), "fieldtype": "Data", "width": 100},
		{"fieldname": "in_stock", "label": _("In Stock"), "fieldtype": "Float", "width": 80},
		{"fieldname": "end_product", "label": _("End Product"), "fieldtype": "Check", "width": 90},
	])
