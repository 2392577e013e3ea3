# Copyright (c) 2026, MedTrace and contributors
# For license information, please see license.txt

"""Mock Recall Drill History: every drill scoped in the date range, oldest first, with its timings and
accuracy, and a chart of how the timings trend."""

import frappe
from frappe import _
from frappe.query_builder import DocType
from frappe.query_builder.functions import Count
from frappe.utils import add_days

from medtrace.utils.filters import checked_period

TIMINGS = (
	("back_trace_seconds", "Back Trace Time (s)"),
	("forward_trace_seconds", "Forward Trace Time (s)"),
	("customer_list_seconds", "Customer List Time (s)"),
	("mass_balance_seconds", "Mass Balance Time (s)"),
)
# The chart's lines, in milliseconds: its axis labels are whole numbers, and drills take fractions of a second.
CHART_LINES = (
	("back_trace_seconds", "Back Trace (ms)"),
	("forward_trace_seconds", "Forward Trace (ms)"),
	("customer_list_seconds", "Customer List (ms)"),
	("mass_balance_seconds", "Mass Balance (ms)"),
)


DEFAULT_DAYS = 365


def execute(filters=None):
	filters = frappe._dict(filters or {})
	from_date, to_date = checked_period(filters, DEFAULT_DAYS)
	rows = drills(from_date, to_date)
	return columns(), rows, None, chart(rows)


def columns() -> list[dict]:
	return [
		{"fieldname": "recall", "label": _("Recall"), "fieldtype": "Link", "options": "Recall", "width": 150},
		{"fieldname": "title", "label": _("Title"), "fieldtype": "Data", "width": 200},
		{"fieldname": "scoped_on", "label": _("Scoped On"), "fieldtype": "Datetime", "width": 160},
		{"fieldname": "status", "label": _("Status"), "fieldtype": "Data", "width": 110},
		{"fieldname": "affected_units", "label": _("Affected Units"), "fieldtype": "Int", "width": 110},
		*({"fieldname": field, "label": _(label), "fieldtype": "Float", "precision": 3, "width": 130} for field, label in TIMINGS),
		{"fieldname": "accounted_for_seconds", "label": _("Time to All Units Accounted For (s)"), "fieldtype": "Float",
		 "precision": 3, "width": 160},
		{"fieldname": "drill_accuracy", "label": _("Drill Accuracy"), "fieldtype": "Percent", "width": 110},
		{"fieldname": "unbalanced_lots", "label": _("Lots with Unexplained Remainders"), "fieldtype": "Int", "width": 150},
	]


def drills(from_date, to_date) -> list[dict]:
	"""The drills the user may read, scoped in the date range."""
	rows = frappe.get_list(
		"Recall",
		filters={"is_drill": 1, "scoped_on": ("between", [from_date, add_days(to_date, 1)])},
		fields=["name as recall", "title", "scoped_on", "status", *(field for field, _label in TIMINGS), "accounted_for_seconds",
		        "drill_accuracy"],
		order_by="scoped_on asc",
	)
	if not rows:
		return []
	names = [row.recall for row in rows]
	units = children_per_recall("Recall Affected Unit", names)
	unbalanced = children_per_recall("Recall Mass Balance", names, balanced=0)
	for row in rows:
		row.update({"affected_units": units.get(row.recall, 0), "unbalanced_lots": unbalanced.get(row.recall, 0)})
	return rows


def children_per_recall(doctype: str, recalls: list[str], **conditions) -> dict[str, int]:
	Child = DocType(doctype)
	query = (
		frappe.qb.from_(Child)
		.select(Child.parent, Count("*"))
		.where((Child.parenttype == "Recall") & Child.parent.isin(recalls))
		.groupby(Child.parent)
	)
	for field, value in conditions.items():
		query = query.where(Child[field] == value)
	return dict(query.run())


def chart(rows: list[dict]) -> dict:
	return {
		"data": {
			"labels": [f"{row.recall} ({frappe.format(row.scoped_on, 'Date')})" for row in rows],
			"datasets": [
				{"name": _(label), "values": [round((row[field] or 0) * 1000) for row in rows]} for field, label in CHART_LINES
			],
		},
		# One group of bars per drill: drills are events, not a continuous series, and one drill is drawn too.
		"type": "bar",
	}
