# Copyright (c) 2026, MedTrace and contributors
# For license information, please see license.txt

"""Batch Genealogy: a lot with what it was made from (backward) and what it went into (forward), as one
indented tree — each node under the node it was reached from, with the document that linked them."""

import frappe
from frappe import _

from medtrace.traceability.api import trace_for_report
from medtrace.traceability.trace_views import node_cells, node_columns, report_columns
from medtrace.traceability.tree import trace_tree


def execute(filters=None):
	filters = frappe._dict(filters or {})
	backward = trace_for_report("Batch", filters.batch, "backward", filters)
	forward = trace_for_report("Batch", filters.batch, "forward", filters)
	made_from, used_in = trace_tree(backward), trace_tree(forward)
	rows = [tree_row(made_from[0], _("Traced Lot"))]
	rows += [tree_row(row, _("Made From")) for row in made_from[1:]]
	rows += [tree_row(row, _("Used In")) for row in used_in[1:]]
	return columns(), rows


def columns() -> list[dict]:
	return report_columns([
		{"fieldname": "relation", "label": _("Genealogy"), "fieldtype": "Data", "width": 110},
		*node_columns(),
		{"fieldname": "depth", "label": _("Depth"), "fieldtype": "Int", "width": 70},
		{"fieldname": "consumed_qty", "label": _("Consumed Qty"), "fieldtype": "Float", "width": 100},
		{"fieldname": "attributed_qty", "label": _("Attributed Qty"), "fieldtype": "Float", "width": 100},
		{"fieldname": "voucher_type", "label": _("Document Type"), "fieldtype": "Data", "hidden": 1},
		{"fieldname": "voucher_no", "label": _("Document"), "fieldtype": "Dynamic Link", "options": "voucher_type", "width": 160},
		{"fieldname": "posting_datetime", "label": _("Posting Date"), "fieldtype": "Datetime", "width": 160},
		{"fieldname": "in_stock", "label": _("In Stock"), "fieldtype": "Float", "width": 80},
		{"fieldname": "shown_elsewhere", "label": _("Shown Elsewhere"), "fieldtype": "Check", "width": 80},
	])


def tree_row(row: dict, relation: str) -> dict:
	node, link = row["node"], row["link"] or {}
	return {
		"indent": row["indent"],
		"relation": relation,
		**node_cells(node),
		"depth": node["depth"],
		"consumed_qty": link.get("qty"),
		"attributed_qty": link.get("attributed_qty"),
		"voucher_type": link.get("voucher_type"),
		"voucher_no": link.get("voucher_no"),
		"posting_datetime": link.get("posting_datetime"),
		"in_stock": node["in_stock"],
		"shown_elsewhere": 1 if row["shown_elsewhere"] else 0,
	}
