"""The trace engine over HTTP: /api/method/medtrace.traceability.api.get_trace."""

import time

import frappe
from frappe import _

from medtrace.traceability.engine import (
	TraceRequest,
	TraceStart,
	max_trace_depth,
	record_start,
	start_of,
	trace_from,
	trace_request,
)
from medtrace.traceability.query_log import record_trace_time

# How deep a report traces when its filters name no depth.
REPORT_DEPTH = 10
# The starts a report tracing forward from a lot offers instead, in the order its filters are read.
SUPPLIER_STARTS = ("supplier_lot", "supplier")


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
	start_type: str = "identifier",
	supplier: str | None = None,
	received_from: str | None = None,
	received_to: str | None = None,
	supplied_item: str | list | None = None,
) -> dict:
	"""Backward or forward trace of a lot, serial number or scanned UDI — or, by start_type, of a supplier,
	a supplier's lot number or label (of supplier, if given) or a customer; see medtrace.traceability.engine
	for the result. item, customer and supplied_item take one name or a JSON list of names."""
	check_trace_permission()
	request = trace_request(direction, depth, from_date, to_date, item, customer)
	check_start_permission(start_type, identifier, supplier)
	start = start_of(start_type, identifier, supplier, received_from, received_to, supplied_item)
	return permitted_trace(start, request)


def permitted_trace(start: TraceStart | tuple[str, str], request: TraceRequest) -> dict:
	"""trace_from for the session's user, who must be allowed to trace and to read the traced record, the
	supplier or the customer; a (doctype, name) is a Batch or Serial No."""
	check_trace_permission()
	if isinstance(start, tuple):
		start = record_start(*start)
	for doctype, name in ((start.doctype, start.name), ("Supplier", start.supplier)):
		if name and doctype in ("Batch", "Serial No", "Supplier", "Customer"):
			check_read_permission(doctype, name)
	started = time.perf_counter()
	result = trace_from(start, request)
	record_trace_time(start.identifier or start.name, request.direction, request.depth, len(result["nodes"]), time.perf_counter() - started)
	return result


def check_start_permission(start_type: str, value, supplier) -> None:
	"""Whether the user may read the supplier or customer a trace starts from, asked before anything is
	looked up for it: a refusal must not tell whether the party exists or what it was sent."""
	for doctype, name in (({"supplier": "Supplier", "customer": "Customer"}.get(start_type), value), ("Supplier", supplier)):
		if doctype and name and not frappe.has_permission(doctype, "read"):
			frappe.throw(_("You are not permitted to trace from a {0}.").format(_(doctype)), frappe.PermissionError)


def check_read_permission(doctype: str, name: str) -> None:
	if not frappe.has_permission(doctype, "read", doc=name):
		frappe.throw(_("You are not permitted to read {0} {1}.").format(_(doctype), frappe.bold(name)), frappe.PermissionError)


def check_trace_permission() -> None:
	"""A trace crosses batches and serial numbers whatever it starts from, and reads the trace links."""
	for doctype in ("Trace Link", "Batch", "Serial No"):
		if not frappe.has_permission(doctype, "read"):
			frappe.throw(
				_("You are not permitted to trace lots and serial numbers: it needs read access to {0}.").format(_(doctype)),
				frappe.PermissionError,
			)


def trace_for_report(
	doctype: str, name: str | None, direction: str, filters: dict, depth=None, other_starts: tuple[str, ...] = ()
) -> dict:
	"""A traceability report's trace of its record — or, where the report offers them (other_starts: start
	types of the engine named as the filters are), of a supplier lot or a supplier with its receipt filters —
	from the report's filters, for the session's user; a notice says when the depth limit cut the genealogy
	short."""
	request = trace_request(
		direction, depth or filters.get("depth") or min(REPORT_DEPTH, max_trace_depth()), filters.get("from_date"),
		filters.get("to_date"), filters.get("item"), filters.get("customer"),
	)
	result = permitted_trace(report_start(doctype, name, filters, other_starts), request)
	if result["query"]["truncated"]:
		frappe.msgprint(
			_("The genealogy of {0} goes on beyond depth {1}: raise the depth to see all of it.").format(
				frappe.bold(result["query"]["name"]), request.depth
			),
			indicator="orange",
			alert=True,
		)
	return result


def report_start(doctype: str, name: str | None, filters: dict, other_starts: tuple[str, ...]) -> TraceStart | tuple[str, str]:
	if name:
		return doctype, name
	for start_type in other_starts:
		if filters.get(start_type):
			check_start_permission(start_type, filters.get(start_type), filters.get("supplier"))
			return start_of(
				start_type, filters.get(start_type), filters.get("supplier"), filters.get("received_from"), filters.get("received_to"),
				filters.get("supplied_item"),
			)
	if other_starts:
		frappe.throw(_("Choose the {0}, supplier lot or supplier to trace.").format(_(doctype)), title=_("Missing Filter"))
	frappe.throw(_("Choose the {0} to trace.").format(_(doctype)), title=_("Missing Filter"))
