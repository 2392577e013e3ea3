"""The trace engine over HTTP: /api/method/medtrace.traceability.api.get_trace."""

import frappe
from frappe import _

from medtrace.traceability.engine import resolve_identifier, run_trace, trace_request


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
	if not frappe.has_permission(doctype, "read", doc=name):
		frappe.throw(
			_("You are not permitted to read {0} {1}.").format(_(doctype), frappe.bold(name)), frappe.PermissionError
		)
	return run_trace(doctype, name, request, identifier)


def check_trace_permission() -> None:
	"""A trace crosses batches and serial numbers whatever it starts from, and reads the trace links."""
	for doctype in ("Trace Link", "Batch", "Serial No"):
		if not frappe.has_permission(doctype, "read"):
			frappe.throw(
				_("You are not permitted to trace lots and serial numbers: it needs read access to {0}.").format(_(doctype)),
				frappe.PermissionError,
			)
