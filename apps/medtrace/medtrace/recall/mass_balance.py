"""Mass balance of a recall's lots: for every lot (Batch) of the affected population, what was received or
produced reconciled with where it went —

	received or produced = consumed into other lots + on hand + delivered − returned + scrapped or sampled
	                       + unexplained

Where the figures come from, and why there:
- Received, consumed, delivered, returned and scrapped come from the Trace Links, because they are what the
  recall acts on: a consumption the genealogy lacks is a lot whose products the recall cannot find, and
  the balance exists to show it. Consumed is read from the Consumption links (the genealogy), not from
  the consumption movements, for that reason.
- On hand comes from ERPNext's stock ledger (Stock Ledger Entries and their Serial and Batch Entries), not
  from the Trace Links: figures all taken from the links restate them and always balance. Checked against
  the ledger, an outflow missing from the links (a lost consumption link, a stock count that wrote stock
  off) is left over as an unexplained remainder.
Transfers between warehouses, and stock sent to a subcontractor, stay on hand and need no column.
"""

import time
from collections import defaultdict

import frappe
from frappe import _
from frappe.query_builder import DocType
from frappe.query_builder.functions import Coalesce, Sum
from frappe.utils import flt

from medtrace.traceability.engine import RETURNED_TO_SUPPLIER
from medtrace.traceability.trace_links import ORIGIN_EVENTS, QTY_PRECISION, node_key, parse_node_key

# A remainder below this is the rounding of fractional quantities, not a missing record.
TOLERANCE = 1e-6
# Movement links the balance counts, by event and direction: the column and the sign they count with.
BALANCE_MOVEMENTS = {
	**{(event, "In"): ("received", 1) for event in ORIGIN_EVENTS},
	# Back to the supplier: never received, as far as the lot's balance goes.
	**{(event, "Out"): ("received", -1) for event in RETURNED_TO_SUPPLIER},
	("Delivery", "Out"): ("delivered", 1),
	("Sales Return", "In"): ("returned", 1),
	("Material Issue", "Out"): ("scrapped", 1),
}


def lots_of(units) -> list[str]:
	"""The lots of affected unit rows: lots themselves and the lots of serial numbers."""
	return list(dict.fromkeys(unit.batch_no for unit in units if unit.batch_no))


def mass_balance(lots: list[str]) -> list[dict]:
	"""One reconciliation row per lot, in the order given."""
	if not lots:
		return []
	items = dict(frappe.get_all("Batch", filters={"name": ("in", lots)}, fields=["name", "item"], as_list=True))
	moved = movements_by_lot(lots)
	consumed = consumed_by_lot(lots)
	stock = stock_by_lot(lots)
	rows = []
	for lot in lots:
		movement = moved[lot]
		quantities = {
			"qty_received": movement["received"],
			"qty_consumed": consumed[lot],
			"qty_in_stock": sum(stock[lot].values()),
			"qty_delivered": movement["delivered"],
			"qty_returned": movement["returned"],
			"qty_scrapped": movement["scrapped"],
		}
		unexplained = (
			quantities["qty_received"] + quantities["qty_returned"] - quantities["qty_consumed"] - quantities["qty_in_stock"]
			- quantities["qty_delivered"] - quantities["qty_scrapped"]
		)
		unexplained = 0 if abs(unexplained) < TOLERANCE else round(unexplained, QTY_PRECISION)
		rows.append(
			{
				"batch_no": lot,
				"item": items.get(lot),
				**{column: round(qty, QTY_PRECISION) for column, qty in quantities.items()},
				"stock_by_warehouse": "\n".join(f"{warehouse}: {flt(qty):g}" for warehouse, qty in sorted(stock[lot].items())),
				"qty_unexplained": unexplained,
				"balanced": int(not unexplained),
			}
		)
	return rows


def movements_by_lot(lots: list[str]) -> dict[str, dict]:
	"""Received, delivered, returned and scrapped per lot, from the Movement links of the lot and of its
	serial numbers."""
	TraceLink = DocType("Trace Link")
	lot_of_link = Coalesce(TraceLink.from_lot_node, TraceLink.from_node)
	nodes = [node_key("Batch", lot) for lot in lots]
	totals = defaultdict(lambda: dict.fromkeys(("received", "delivered", "returned", "scrapped"), 0.0))
	for node, event, direction, qty in (
		frappe.qb.from_(TraceLink)
		.select(lot_of_link, TraceLink.event, TraceLink.direction, Sum(TraceLink.qty))
		.where(
			(TraceLink.link_type == "Movement")
			& (TraceLink.voided == 0)
			& (TraceLink.from_node.isin(nodes) | TraceLink.from_lot_node.isin(nodes))
		)
		.groupby(lot_of_link, TraceLink.event, TraceLink.direction)
		.run()
	):
		if (event, direction) in BALANCE_MOVEMENTS:
			column, sign = BALANCE_MOVEMENTS[event, direction]
			totals[parse_node_key(node)[1]][column] += sign * flt(qty)
	return totals


def consumed_by_lot(lots: list[str]) -> dict[str, float]:
	"""What each lot lost into other lots, serial numbers and work orders, per the Consumption links. A
	voucher row consuming a lot links it to every output of the voucher, each link carrying the whole
	quantity consumed: the quantity counts once per voucher row and lot or serial number."""
	TraceLink = DocType("Trace Link")
	nodes = [node_key("Batch", lot) for lot in lots]
	consumed_per_row = {}
	for voucher_type, voucher_no, detail, node, lot_node, qty in (
		frappe.qb.from_(TraceLink)
		.select(
			TraceLink.voucher_type, TraceLink.voucher_no, TraceLink.voucher_detail_no, TraceLink.from_node,
			TraceLink.from_lot_node, TraceLink.qty,
		)
		.distinct()
		.where(
			(TraceLink.link_type == "Consumption")
			& (TraceLink.voided == 0)
			& (TraceLink.from_node.isin(nodes) | TraceLink.from_lot_node.isin(nodes))
		)
		.run()
	):
		key = (voucher_type, voucher_no, detail, node)
		consumed_per_row[key] = (lot_node or node, max(flt(qty), consumed_per_row.get(key, (None, 0))[1]))
	consumed = defaultdict(float)
	for lot_node, qty in consumed_per_row.values():
		consumed[parse_node_key(lot_node)[1]] += qty
	return consumed


def stock_by_lot(lots: list[str]) -> dict[str, dict[str, float]]:
	"""Each lot's stock per warehouse from the stock ledger, cancelled entries left out (ERPNext stores
	an outward bundle entry's quantity negative)."""
	Ledger, BundleEntry = DocType("Stock Ledger Entry"), DocType("Serial and Batch Entry")
	stock = defaultdict(dict)
	for lot, warehouse, qty in (
		frappe.qb.from_(Ledger)
		.join(BundleEntry)
		.on(BundleEntry.parent == Ledger.serial_and_batch_bundle)
		.select(BundleEntry.batch_no, Ledger.warehouse, Sum(BundleEntry.qty))
		.where((Ledger.is_cancelled == 0) & BundleEntry.batch_no.isin(lots))
		.groupby(BundleEntry.batch_no, Ledger.warehouse)
		.run()
	):
		if abs(flt(qty)) >= TOLERANCE:
			stock[lot][warehouse] = round(flt(qty), QTY_PRECISION)
	return stock


def timed_mass_balance(units) -> tuple[list[dict], float]:
	"""The mass balance of the lots of affected unit rows, and the seconds it took."""
	started = time.perf_counter()
	rows = mass_balance(lots_of(units))
	return rows, time.perf_counter() - started


@frappe.whitelist(methods=["POST"])
def recalculate_mass_balance(name: str) -> dict:
	"""Reconcile the recall's lots again, from the records as they are now."""
	if not name or not frappe.db.exists("Recall", name):
		frappe.throw(_("Recall {0} does not exist.").format(frappe.bold(name)), frappe.DoesNotExistError, title=_("Unknown Recall"))
	recall = frappe.get_doc("Recall", name)
	recall.check_permission("write")
	if not recall.scoped_on:
		frappe.throw(_("Scope recall {0} before reconciling its lots.").format(name), title=_("Recall Not Scoped"))
	recall.update_mass_balance()
	recall.save()
	return {
		"lots": len(recall.mass_balance),
		"unbalanced": {row.batch_no: row.qty_unexplained for row in recall.mass_balance if not row.balanced},
	}
