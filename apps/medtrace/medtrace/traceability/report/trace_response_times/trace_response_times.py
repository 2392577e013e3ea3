# Copyright (c) 2026, MedTrace and contributors
# For license information, please see license.txt

"""Trace Response Times: how fast traces were answered, per day — the p50 and p95 of the response times
the trace engine records (Trace Query Log), and how many traces were run."""

import math

import frappe
from frappe import _
from frappe.query_builder import DocType
from frappe.utils import add_days, getdate

from medtrace.utils.filters import checked_period

DEFAULT_DAYS = 30


def execute(filters=None):
	filters = frappe._dict(filters or {})
	from_date, to_date = checked_period(filters, DEFAULT_DAYS)
	rows = daily_percentiles(from_date, to_date)
	return columns(), rows, None, chart(rows)


def columns() -> list[dict]:
	return [
		{"fieldname": "day", "label": _("Date"), "fieldtype": "Date", "width": 120},
		{"fieldname": "traces", "label": _("Traces"), "fieldtype": "Int", "width": 100},
		{"fieldname": "p50_ms", "label": _("p50 (ms)"), "fieldtype": "Float", "precision": 1, "width": 120},
		{"fieldname": "p95_ms", "label": _("p95 (ms)"), "fieldtype": "Float", "precision": 1, "width": 120},
		{"fieldname": "max_ms", "label": _("Slowest (ms)"), "fieldtype": "Float", "precision": 1, "width": 120},
	]


def daily_percentiles(from_date, to_date) -> list[dict]:
	Log = DocType("Trace Query Log")
	timings = (
		frappe.qb.from_(Log)
		.select(Log.traced_at, Log.duration_ms)
		.where((Log.traced_at >= from_date) & (Log.traced_at < add_days(to_date, 1)))
		.orderby(Log.traced_at)
		.run()
	)
	by_day = {}
	for traced_at, duration in timings:
		by_day.setdefault(getdate(traced_at), []).append(duration)
	return [
		{"day": day, "traces": len(durations), "p50_ms": percentile(durations, 0.5), "p95_ms": percentile(durations, 0.95), "max_ms": max(durations)}
		for day, durations in sorted(by_day.items())
	]


def percentile(values: list[float], share: float) -> float:
	"""Nearest-rank percentile: the smallest value at least `share` of the values do not exceed."""
	ordered = sorted(values)
	return ordered[max(1, math.ceil(len(ordered) * share)) - 1]


def chart(rows: list[dict]) -> dict:
	return {
		"data": {
			"labels": [frappe.format(row["day"], "Date") for row in rows],
			"datasets": [
				{"name": _("p50 (ms)"), "values": [row["p50_ms"] for row in rows]},
				{"name": _("p95 (ms)"), "values": [row["p95_ms"] for row in rows]},
			],
		},
		# A line needs two points: a single day is drawn as bars (a one-point line draws nothing).
		"type": "line" if len(rows) > 1 else "bar",
	}
