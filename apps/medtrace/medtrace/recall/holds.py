"""Recall holds: a lot or serial number of a recall's population still in stock may not leave its
warehouse (delivered, sold with stock, issued, transferred or consumed) while the recall is open.

A hold is one Recall Hold per recall and held lot or serial, unique in the database: two users placing
holds for the same recall at once wait for each other on the recall's row, and overlapping recalls each
hold the lots they share."""

import frappe
from frappe import _
from frappe.query_builder import DocType
from frappe.utils import flt, now_datetime

from medtrace.medtrace_integrations.events import HELD, HOLD_RELEASED, record_hold_events
from medtrace.traceability.trace_links import node_key
from medtrace.utils.bundles import bundle_entries

ACTIVE, RELEASED = "Active", "Released"


def held_nodes(recall) -> dict[str, dict]:
	"""The lots and serial numbers of the recall's population that are in stock, by node key."""
	nodes = {}
	for unit in recall.affected_units:
		if flt(unit.qty_in_stock) <= 0:
			continue
		if unit.serial_no:
			nodes[node_key("Serial No", unit.serial_no)] = {"item": unit.item, "batch_no": None, "serial_no": unit.serial_no}
		else:
			nodes[node_key("Batch", unit.batch_no)] = {"item": unit.item, "batch_no": unit.batch_no, "serial_no": None}
	return nodes


def place_holds(recall) -> list[str]:
	"""Hold every lot and serial of the recall in stock; returns the holds placed now."""
	# Serialises placements for the same recall. A placement whose transaction read the holds before the
	# other one committed still misses them: the unique index refuses its copy, which is then skipped.
	frappe.db.get_value("Recall", recall.name, "name", for_update=True)
	existing = set(frappe.get_all("Recall Hold", filters={"recall": recall.name}, pluck="node"))
	placed, held_now = [], []
	for node, held in held_nodes(recall).items():
		if node in existing:
			continue
		hold = frappe.get_doc({"doctype": "Recall Hold", "recall": recall.name, "node": node, "status": ACTIVE, **held})
		quietly(hold)
		frappe.db.savepoint("recall_hold")
		try:
			placed.append(hold.insert(ignore_permissions=True).name)
			held_now.append(held)
		except frappe.UniqueValidationError:
			frappe.db.rollback(save_point="recall_hold")
			frappe.clear_last_message()
	record_hold_events(HELD, recall.name, held_now)
	return placed


def quietly(hold):
	"""No realtime notification for each of thousands of holds: Frappe queues a request's notifications
	until its commit and compares each new one with every one queued before, so that a recall's holds cost
	time quadratic in their number (minutes for 5,000 holds; tests/perf/bench_recall.py)."""
	hold.flags.notify_update = False
	return hold


def release_holds(recall_name: str) -> None:
	released = []
	for name in frappe.get_all("Recall Hold", filters={"recall": recall_name, "status": ACTIVE}, pluck="name"):
		hold = quietly(frappe.get_doc("Recall Hold", name))
		hold.update({"status": RELEASED, "released_on": now_datetime()})
		hold.save(ignore_permissions=True)
		released.append({"item": hold.item, "batch_no": hold.batch_no, "serial_no": hold.serial_no})
	record_hold_events(HOLD_RELEASED, recall_name, released)


def refuse_moving_held_stock(doc, method=None) -> None:
	"""on_submit of Delivery Note, Sales Invoice and Stock Entry: held lots and serials may not leave their
	warehouse. ERPNext makes the rows' Serial and Batch Bundles in on_submit, before this hook runs."""
	if doc.get("is_return") or (doc.doctype == "Sales Invoice" and not doc.get("update_stock")):
		return
	bundles = [
		row.serial_and_batch_bundle
		for row in doc.items
		if row.get("serial_and_batch_bundle") and (doc.doctype != "Stock Entry" or row.s_warehouse)
	]
	if not bundles:
		return
	query, Bundle, BundleEntry = bundle_entries()
	outgoing = query.select(BundleEntry.batch_no, BundleEntry.serial_no).where(Bundle.name.isin(bundles)).run(as_dict=True)
	refusal = hold_refusal({row.batch_no for row in outgoing if row.batch_no}, {row.serial_no for row in outgoing if row.serial_no})
	if refusal:
		frappe.throw(refusal, title=_("Recall Hold"))


def hold_refusal(batches: set, serials: set) -> str | None:
	"""Why these lots and serial numbers may not leave their warehouse, naming the recalls holding them; None
	when no active hold covers any of them. Integration messages are refused with it before they are queued."""
	if not batches and not serials:
		return None
	Hold = DocType("Recall Hold")
	matches = Hold.batch_no.isin(batches or [""]) | Hold.serial_no.isin(serials or [""])
	holds = (
		frappe.qb.from_(Hold)
		.select(Hold.recall, Hold.batch_no, Hold.serial_no)
		.where((Hold.status == ACTIVE) & matches)
		.orderby(Hold.recall)
		.run(as_dict=True)
	)
	if not holds:
		return None
	recalls_of = {}
	for hold in holds:
		recalls_of.setdefault(hold.serial_no or hold.batch_no, []).append(hold.recall)
	return _("These lots / serial numbers are on hold for a recall and cannot be delivered or consumed: {0}").format(
		"; ".join(
			_("{0} (recall {1})").format(identifier, ", ".join(recalls)) for identifier, recalls in sorted(recalls_of.items())
		)
	)
