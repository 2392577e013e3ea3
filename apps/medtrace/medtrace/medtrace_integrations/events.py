"""Outbound traceability events: what other systems (MES, WMS, a distributor's portal) follow — a lot
released, held or no longer held, recalled, shipped, a shipment cancelled or returned.

Each event is a Traceability Event record, written in the same transaction as what it reports, so an event
exists exactly when its cause was committed. Other systems either read them over REST in name order (the
names are a sequence) or get them pushed: a Frappe Webhook on Traceability Event "after_insert", set up in
the Desk with the receiver's URL and secret, posts each one as it is made. Drills make no events: the
outside world must not act on a rehearsal."""

import json

import frappe
from frappe.utils import flt, now_datetime

from medtrace.traceability.trace_links import QTY_PRECISION
from medtrace.utils.bundles import bundle_entries

LOT_RELEASED = "Lot Released"
HELD = "Held"
HOLD_RELEASED = "Hold Released"
RECALLED = "Recalled"
SHIPPED = "Shipped"
SHIPMENT_CANCELLED = "Shipment Cancelled"
RETURNED = "Returned"


def record_event(event: str, reference, item: str, batch_no=None, serial_nos=(), qty=None, customer=None, **details):
	"""One event about one lot (or serial numbers without a lot) of one item, caused by reference."""
	serial_nos = sorted(serial_nos)
	udi_source = ("Serial No", serial_nos[0]) if len(serial_nos) == 1 else ("Batch", batch_no) if batch_no else None
	udi = frappe.db.get_value(*udi_source, "udi_element_string") if udi_source else None
	payload = {
		"event": event,
		"item": item,
		"batch_no": batch_no,
		"serial_nos": serial_nos,
		"qty": qty,
		"udi": udi,
		"customer": customer,
		"reference_doctype": reference.doctype,
		"reference_name": reference.name,
		**details,
	}
	event = frappe.get_doc(
		{
			"doctype": "Traceability Event",
			"event": event,
			"occurred_on": now_datetime(),
			"item": item,
			"batch_no": batch_no,
			"serial_no": serial_nos[0] if len(serial_nos) == 1 else None,
			"serial_nos": "\n".join(serial_nos),
			"qty": qty,
			"udi": udi,
			"customer": customer,
			"reference_doctype": reference.doctype,
			"reference_name": reference.name,
			"payload": json.dumps(payload, default=str, indent=1),
		}
	)
	# No live list refresh per event: a recall makes thousands in one request (see recall/holds.py quietly).
	event.flags.notify_update = False
	event.insert(ignore_permissions=True)


def on_dhr_released(dhr, serial_nos: list[str]) -> None:
	"""A lot's (or serial's) Device History Record released, with the serial DHRs released with it."""
	if dhr.serial_no:
		serial_nos = [dhr.serial_no, *serial_nos]
	record_event(LOT_RELEASED, dhr, dhr.item, dhr.batch_no, serial_nos, release_signature=dhr.release_signature)


def record_hold_events(event: str, recall: str, holds: list[dict]) -> None:
	"""Holds placed or released for a recall, one event per item and lot with the held serial numbers: a
	recall holds thousands of serials at once."""
	lots = {}
	for hold in holds:
		serials = lots.setdefault((hold["item"], hold.get("batch_no")), [])
		if hold.get("serial_no"):
			serials.append(hold["serial_no"])
	reference = frappe._dict(doctype="Recall", name=recall)
	for (item, batch_no), serial_nos in lots.items():
		record_event(event, reference, item, batch_no, serial_nos, recall=recall)


def on_recall_update(recall, method=None) -> None:
	"""A real recall, once scoped, is announced for every lot and serial in its scope."""
	if recall.is_drill or not recall.has_value_changed("status") or recall.status != "Scoped":
		return
	for row in recall.scope:
		record_event(
			RECALLED,
			recall,
			row.item,
			row.batch_no,
			[row.serial_no] if row.serial_no else [],
			recall=recall.name,
			classification=recall.classification,
			affected_units=len(recall.affected_units),
		)


def on_shipment_submit(doc, method=None) -> None:
	"""on_submit of Delivery Note and Sales Invoice (with stock): one event per item and lot shipped or
	returned."""
	record_shipment_events(doc, RETURNED if doc.get("is_return") else SHIPPED)


def on_shipment_cancel(doc, method=None) -> None:
	"""Each lot the document had shipped or taken back, announced as cancelled. ERPNext has unlinked the
	rows' bundles by now, so what it had moved is read from the events it made."""
	for event in frappe.get_all(
		"Traceability Event",
		filters={"reference_doctype": doc.doctype, "reference_name": doc.name, "event": ("in", (SHIPPED, RETURNED))},
		fields=["item", "batch_no", "serial_nos", "qty", "customer", "event"],
		order_by="name",
	):
		record_event(
			SHIPMENT_CANCELLED,
			doc,
			event.item,
			event.batch_no,
			(event.serial_nos or "").split("\n") if event.serial_nos else [],
			qty=event.qty,
			customer=event.customer,
			cancelled_event=event.event,
		)


def record_shipment_events(doc, event: str) -> None:
	if doc.doctype == "Sales Invoice" and not doc.get("update_stock"):
		return
	for (item, batch_no), moved in shipped_lots(doc).items():
		record_event(
			event,
			doc,
			item,
			batch_no,
			moved["serial_nos"],
			qty=round(moved["qty"], QTY_PRECISION),
			customer=doc.customer,
			address=doc.get("shipping_address_name") or doc.get("customer_address"),
			posting_date=doc.posting_date,
		)


def shipped_lots(doc) -> dict[tuple, dict]:
	"""Quantity and serial numbers per item and lot, from the document's Serial and Batch Bundles."""
	bundles = [row.serial_and_batch_bundle for row in doc.items if row.get("serial_and_batch_bundle")]
	if not bundles:
		return {}
	query, Bundle, Entry = bundle_entries()
	rows = (
		query.select(Bundle.name.as_("bundle"), Bundle.item_code, Entry.batch_no, Entry.serial_no, Entry.qty)
		.where(Bundle.name.isin(bundles))
		.run(as_dict=True)
	)
	row_order = {bundle: position for position, bundle in enumerate(bundles)}
	lots = {}
	for row in sorted(rows, key=lambda row: row_order[row.bundle]):
		lot = lots.setdefault((row.item_code, row.batch_no or None), {"qty": 0, "serial_nos": []})
		lot["qty"] += abs(flt(row.qty))
		if row.serial_no:
			lot["serial_nos"].append(row.serial_no)
	return lots
