"""A recall's affected population, found by the trace engine: forward from every lot or serial number in
the recall's scope, everything made from it or containing it, where each of them is in stock now and which
customer received how many, at which address, net of what they sent back."""

import time
from collections import defaultdict

from frappe.utils import flt

from medtrace.traceability.engine import TraceRequest, max_trace_depth, run_trace
from medtrace.traceability.trace_links import QTY_PRECISION

UNIT_DOCTYPES = ("Batch", "Serial No")


def affected_population(scope_rows) -> dict:
	"""Affected unit rows (one per lot or serial and warehouse, per lot or serial and delivery, or one for a
	lot or serial that is neither in stock nor delivered but inside another affected unit), the customers
	with the units they hold, the seconds it took and the seconds of it spent in the forward traces."""
	started = time.perf_counter()
	request = TraceRequest(direction="forward", depth=max_trace_depth())
	nodes, stock = {}, {}
	deliveries = {}
	returned = defaultdict(float)
	tracing = 0.0
	for row in scope_rows:
		doctype, name = ("Serial No", row.serial_no) if row.serial_no else ("Batch", row.batch_no)
		traced_from = time.perf_counter()
		result = run_trace(doctype, name, request)
		tracing += time.perf_counter() - traced_from
		nodes.update({node["node"]: node for node in result["nodes"] if node["doctype"] in UNIT_DOCTYPES})
		for warehouse in result["warehouses"]:
			for held in warehouse["nodes"]:
				stock[(held["node"], warehouse["warehouse"])] = held["qty"]
		for movement in result["movements"]:
			if movement["party_type"] != "Customer" or movement["node"] not in nodes:
				continue
			if movement["event"] == "Delivery":
				deliveries[(movement["node"], movement["voucher_type"], movement["voucher_no"])] = movement
			elif movement["event"] == "Sales Return":
				# A return counts against the delivery it returns; two scope rows may trace the same return.
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
		customers[movement["party"]] += delivered - returned_against[key]
	# Units neither in stock nor delivered on their own went into other affected units: listed all the same.
	placed = {(unit["batch_no"], unit["serial_no"]) for unit in units}
	units.extend(
		identity(node) for node in nodes.values() if (identity(node)["batch_no"], identity(node)["serial_no"]) not in placed
	)
	units.sort(key=lambda u: (u["item"] or "", u["batch_no"] or "", u["serial_no"] or "", u.get("warehouse") or "", u.get("customer") or ""))
	return {
		"units": units,
		"customers": {customer: round(qty, QTY_PRECISION) for customer, qty in sorted(customers.items())},
		"seconds": time.perf_counter() - started,
		"forward_trace_seconds": tracing,
	}


def identity(node: dict) -> dict:
	if node["doctype"] == "Serial No":
		return {"item": node["item"], "batch_no": node["lot"], "serial_no": node["name"]}
	return {"item": node["item"], "batch_no": node["name"], "serial_no": None}
