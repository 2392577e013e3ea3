"""Response times of real traces, kept for the Trace Response Times report and the workspace chart."""

import frappe
from frappe.utils import now_datetime


def record_trace_time(identifier: str, direction: str, depth: int, nodes: int, seconds: float) -> None:
	# A plain row insert: the log is measurement, not an audited record, and must not slow the trace down.
	log = frappe.get_doc(
		{
			"doctype": "Trace Query Log",
			"traced_at": now_datetime(),
			"user": frappe.session.user,
			"identifier": (identifier or "")[:140],
			"direction": direction,
			"depth": depth,
			"nodes": nodes,
			"duration_ms": round(seconds * 1000, 1),
		}
	)
	log.set_new_name()
	log.db_insert()
