"""The trace engine over HTTP: /api/method/medtrace.traceability.api.get_trace."""

import time

import frappe
from frappe import _

from medtrace.traceability.engine import (
	TraceRequest,
	check_traceable,
	max_trace_depth,
	resolve_identifier,
	run_trace,
	trace_request,
)
from medtrace.traceability.query_log import record_trace_time

# How deep a report traces when its filters name no depth.
REPORT_DEPTH = 10


@frappe.whitelist()
def get_trace(
	identifier: str,
	direction: str = "backward",
	# Text too: a query string's depth is text, and validate_depth says what is wrong with bad text.
	depth: int | str = 10,
	from_date: str | None = None,
	to_date: str | None = None,
	item: str | list | None = None,
	customer: str | list | None = None,
) -> dict:
	"""Backward or forward trace of a lot, serial number or scanned UDI; see medtrace.traceability.engine
	for the result. item and customer take one name or a JSON list of names."""
	check_trace_permission()
	request = trace_request(direction, depth, from_date, to_date, item, customer)
	doctype, name = resolve_identifier(identifier)
	return permitted_trace(doctype, name, request, identifier)


def permitted_trace(doctype: str, name: str, request: TraceRequest, identifier: str | None = None) -> dict:
	"""run_trace for the session's user, who must be allowed to trace and to read the traced record."""
	check_trace_permission()
	check_traceable(doctype, name)
	if not frappe.has_permission(doctype, "read", doc=name):
		frappe.throw(
			_("You are not permitted to read {0} {1}.").format(_(doctype), frappe.bold(name)), frappe.PermissionError
		)
	started = time.perf_counter()
	result = run_trace(doctype, name, request, identifier)
	record_trace_time(identifier or name, request.direction, request.depth, len(result["nodes"]), time.perf_counter() - started)
	return result


def check_trace_permission() -> None:
	"""A trace crosses batches and serial numbers whatever it starts from, and reads the trace links."""
	for doctype in ("Trace Link", "Batch", "Serial No"):
		if not frappe.has_permission(doctype, "read"):
			frappe.throw(
				_("You are not permitted to trace lots and serial numbers: it needs read access to {0}.").format(_(doctype)),
				frappe.PermissionError,
			)


def trace_for_report(doctype: str, name: str | None, direction: str, filters: dict, depth=None) -> dict:
	"""A traceability report's trace of its record, from the report's filters, for the session's user; a
	notice says when the depth limit cut the genealogy short."""
	if not name:
		frappe.throw(_("Choose the {0} to trace.").format(_(doctype)), title=_("Missing Filter"))
	request = trace_request(
		direction, depth or filters.get("depth") or min(REPORT_DEPTH, max_trace_depth()), filters.get("from_date"),
		filters.get("to_date"), filters.get("item"), filters.get("customer"),
	)
	result = permitted_trace(doctype, name, request)
	if result["query"]["truncated"]:
		frappe.msgprint(
			_("The genealogy of {0} goes on beyond depth {1}: raise the depth to see all of it.").format(
				frappe.bold(name), request.depth
			),
			indicator="orange",
			alert=True,
		)
	return result
