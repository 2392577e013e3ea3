"""A recall's affected population, found by the trace engine: forward from every lot or serial number in
the recall's scope, everything made from it or containing it, where each of them is in stock now and which
customer received how many, at which address, net of what they sent back. A recall triggered by a
supplier's notice finds its scope first: our lots carrying the notice's lot numbers, received from the
supplier, within its receipt dates and of its items."""

import re
import time
from collections import defaultdict

import frappe
from frappe import _
from frappe.utils import flt

from medtrace.traceability.engine import TraceInputError, TraceRequest, max_trace_depth, records_start, start_of, trace_from
from medtrace.traceability.trace_links import QTY_PRECISION, node_key, parse_node_key

UNIT_DOCTYPES = ("Batch", "Serial No")


def scope_nodes(scope_rows) -> list[str]:
	return [node_key("Serial No", row.serial_no) if row.serial_no else node_key("Batch", row.batch_no) for row in scope_rows]


def scope_trace(scope_rows, direction: str, recall: str | None = None) -> dict:
	"""One trace from every lot and serial number of the scope together, over the whole genealogy."""
	request = TraceRequest(direction=direction, depth=max_trace_depth())
	return trace_from(records_start("Recall", recall or _("Recall"), scope_nodes(scope_rows)), request)


def affected_population(scope_rows, recall: str | None = None) -> dict:
	"""Affected unit rows (one per lot or serial and warehouse, per lot or serial and delivery, or one for a
	lot or serial that is neither in stock nor delivered but inside another affected unit), the units each
	customer holds per unit of measure ((customer, UOM) → quantity), the seconds it took and the seconds of it spent in the forward trace."""
	started = time.perf_counter()
	deliveries = {}
	returned = defaultdict(float)
	result = scope_trace(scope_rows, "forward", recall)
	tracing = time.perf_counter() - started
	nodes = {node["node"]: node for node in result["nodes"] if node["doctype"] in UNIT_DOCTYPES}
	stock = {(held["node"], warehouse["warehouse"]): held["qty"] for warehouse in result["warehouses"] for held in warehouse["nodes"]}
	for movement in result["movements"]:
		if movement["party_type"] != "Customer" or movement["node"] not in nodes:
			continue
		if movement["event"] == "Delivery":
			deliveries[(movement["node"], movement["voucher_type"], movement["voucher_no"])] = movement
		elif movement["event"] == "Sales Return":
			# A return counts against the delivery it returns.
			key = (movement["node"], movement["voucher_type"], movement["return_against"])
			returned[key, movement["voucher_no"]] = abs(flt(movement["qty"]))

	returned_against = defaultdict(float)
	for (key, _return_voucher), qty in returned.items():
		returned_against[key] += qty
	units = [
		{**identity(nodes[node]), "warehouse": warehouse, "qty_in_stock": qty}
		for (node, warehouse), qty in stock.items()
		# A warehouse ERPNext lets go negative holds nothing to recall.
		if node in nodes and qty > 0
	]
	# Per customer and unit of measure: a customer's kilograms and pieces are never added together.
	customers = defaultdict(float)
	for key, movement in deliveries.items():
		delivered = abs(flt(movement["qty"]))
		units.append(
			{
				**identity(nodes[movement["node"]]),
				"customer": movement["party"],
				"delivery_doctype": movement["voucher_type"],
				"delivery_note": movement["voucher_no"],
				"address": movement["address"],
				"qty_delivered": delivered,
				"qty_returned": round(returned_against[key], QTY_PRECISION),
			}
		)
		customers[movement["party"], units[-1]["stock_uom"]] += delivered - returned_against[key]
	# Units neither in stock nor delivered on their own went into other affected units: listed all the same.
	placed = {(unit["batch_no"], unit["serial_no"]) for unit in units}
	units.extend(
		identity(node) for node in nodes.values() if (identity(node)["batch_no"], identity(node)["serial_no"]) not in placed
	)
	units.sort(key=lambda u: (u["item"] or "", u["batch_no"] or "", u["serial_no"] or "", u.get("warehouse") or "", u.get("customer") or ""))
	return {
		"units": units,
		"customers": {key: round(qty, QTY_PRECISION) for key, qty in sorted(customers.items())},
		"seconds": time.perf_counter() - started,
		"forward_trace_seconds": tracing,
	}


def identity(node: dict) -> dict:
	uom = frappe.get_cached_value("Item", node["item"], "stock_uom") if node["item"] else None
	if node["doctype"] == "Serial No":
		return {"item": node["item"], "batch_no": node["lot"], "serial_no": node["name"], "stock_uom": uom}
	return {"item": node["item"], "batch_no": node["name"], "serial_no": None, "stock_uom": uom}


def supplier_lot_numbers(text: str | None) -> list[str]:
	"""Lot numbers as a supplier's notice gives them: one per line, or separated by commas or semicolons."""
	return list(dict.fromkeys(number.strip() for number in re.split(r"[\n,;]", text or "") if number.strip()))


def lots_from_supplier_notice(supplier: str, numbers: list[str], received_from=None, received_to=None, items=()) -> dict:
	"""Scope rows for the lots and serial numbers a supplier's notice names — ours carrying its lot numbers
	and received from the supplier, or without numbers every one received from it — within the receipt dates
	and of the items; and the notice's numbers no receipt from the supplier carries."""
	starts, not_received = [], []
	for number in numbers:
		try:
			starts.append(start_of("supplier_lot", number, supplier, received_from, received_to, list(items)))
		except TraceInputError:
			# The supplier's notice may name lots it never sent us: worth recording, no reason to stop.
			frappe.clear_last_message()
			not_received.append(number)
	if not numbers:
		starts.append(start_of("supplier", supplier, None, received_from, received_to, list(items)))
	candidates = {candidate["node"]: candidate for start in starts for candidate in start.candidates}
	supplier_lots = dict(
		frappe.get_all(
			"Batch",
			filters={"name": ("in", [parse_node_key(node)[1] for node in candidates if node.startswith("Batch::")])},
			fields=["name", "medtrace_supplier_lot"],
			as_list=True,
		)
	) if candidates else {}
	rows = []
	for node in sorted(candidates):
		doctype, name = parse_node_key(node)
		rows.append(
			{"batch_no": name if doctype == "Batch" else None, "serial_no": name if doctype == "Serial No" else None,
			 "supplier_lot": supplier_lots.get(name), "from_supplier_notice": 1}
		)
	return {"rows": rows, "not_received": not_received}
