"""MES and WMS messages over real HTTP: a Work Order started by the lots it consumes, its production reported
in parts with the lot and serial numbers made, and their genealogy; warehouse transfers and picks by scanned
UDI; every invalid message refused with what is wrong, creating nothing."""

import datetime
import re

import frappe
import pytest
from erpnext.manufacturing.doctype.work_order.work_order import make_stock_entry, stop_unstop
from erpnext.stock.doctype.batch.batch import get_batch_qty
from frappe.utils import now_datetime

from factories import (
	make_customer,
	make_delivery,
	make_device_identifier,
	make_integration_system,
	make_item,
	receive_stock,
	released,
	signed_workflow_action,
)
from medtrace.medtrace_integrations.messages import MESSAGE_TYPES
from medtrace.medtrace_integrations.openapi import openapi_document
from medtrace.traceability.engine import trace
from medtrace.traceability.trace_links import node_key
from medtrace.utils.bundles import bundle_entries
from offline_seed import TEST_ABBR, TEST_COMPANY
from test_integration_api import outcome, post
from test_scan import as_raw

pytestmark = pytest.mark.requirement("MT-INT-002")

STORES, WIP, FINISHED = (f"{name} - {TEST_ABBR}" for name in ("Stores", "Work In Progress", "Finished Goods"))
MES_ROLES = ("MedTrace Production Operator", "Manufacturing User", "Stock User", "Item Manager")
# Delivery Notes render the customer's address, which only sales, purchase and accounts roles may read.
WMS_ROLES = ("MedTrace Warehouse Operator", "Stock User", "Sales User")
# What a refused message must not have created.
DOCUMENTS = ("Stock Entry", "Delivery Note", "Batch", "Serial No", "Serial and Batch Bundle")


@pytest.fixture(scope="module")
def mes(test_site):
	return make_integration_system("MES", MES_ROLES)


@pytest.fixture(scope="module")
def wms(test_site):
	return make_integration_system("WMS", WMS_ROLES)


def lot_tracked_stock(qty: float, lots: int = 1) -> frappe._dict:
	"""A lot-tracked item with a released GS1 DI (its lots' UDIs name the lot), received into Stores."""
	item = make_item(has_batch_no=1, create_new_batch=1)
	di = released(make_device_identifier(item=item.name, label_expiry_date=0))
	for _lot in range(lots):
		receive_stock(item.name, qty=qty)
	return frappe._dict(item=item.name, di=di.name, lots=frappe.get_all("Batch", filters={"item": item.name}, pluck="name", order_by="name"))


def serialised_stock(count: int) -> frappe._dict:
	"""An item with serial numbers and a released GS1 DI (its serials' UDIs name the serial), received into Stores."""
	item = make_item(has_serial_no=1, serial_no_series=f"MW{frappe.generate_hash(length=6).upper()}-.####")
	di = released(make_device_identifier(item=item.name, label_lot=0, label_serial=1, label_expiry_date=0))
	receive_stock(item.name, qty=count)
	return frappe._dict(item=item.name, di=di.name, serials=frappe.get_all("Serial No", filters={"item_code": item.name}, pluck="name", order_by="name"))


def udi(doctype: str, name: str, form: str = "udi_element_string") -> str:
	return frappe.db.get_value(doctype, name, form)


def make_work_order(production_item: str, components: dict, qty: float, submit: bool = True, **values):
	bom = frappe.get_doc(
		{"doctype": "BOM", "item": production_item, "quantity": 1, "company": TEST_COMPANY,
		 "items": [{"item_code": item_code, "qty": per_unit, "rate": 2} for item_code, per_unit in components.items()]}
	).insert()
	bom.submit()
	work_order = frappe.get_doc(
		{"doctype": "Work Order", "production_item": production_item, "bom_no": bom.name, "qty": qty, "company": TEST_COMPANY,
		 "source_warehouse": STORES, "wip_warehouse": WIP, "fg_warehouse": FINISHED, **values}
	).insert()
	if submit:
		work_order.submit()
	return work_order


def desk_entry(work_order: str, purpose: str, qty: float):
	"""A work order's stock entry as the Desk makes it, lots picked by ERPNext."""
	entry = frappe.get_doc(make_stock_entry(work_order, purpose, qty))
	entry.insert()
	entry.submit()
	return entry


def moved(voucher_no: str, direction: str) -> list[tuple]:
	"""(item, warehouse, lot, serial number, qty) of what a voucher's Serial and Batch Bundles moved out or in."""
	query, Bundle, BundleEntry = bundle_entries()
	rows = (
		query
		.select(Bundle.item_code, Bundle.warehouse, BundleEntry.batch_no, BundleEntry.serial_no, BundleEntry.qty)
		.where((Bundle.voucher_no == voucher_no) & (Bundle.type_of_transaction == direction) & (Bundle.docstatus == 1))
		.run()
	)
	return sorted((item, warehouse, batch_no or None, serial_no or None, abs(qty)) for item, warehouse, batch_no, serial_no, qty in rows)


def processed(web_server, system, message_type: str, payload: dict) -> list:
	"""The documents a message created, once the worker has processed it."""
	status, body, message_id = post(web_server, system, message_type, payload)
	assert status == 202, body
	result = outcome(web_server, system, message_id)
	assert result["status"] == "Processed", result
	frappe.db.rollback()  # see what the worker committed
	return [frappe.get_doc(document["doctype"], document["name"]) for document in result["documents"]]


def now() -> str:
	return now_datetime().isoformat()


def nodes_at_depth(identifier: str, direction: str, depth: int = 1) -> set:
	return {node["node"] for node in trace(identifier, direction, depth=depth)["nodes"] if node["depth"] == depth}


@pytest.fixture(scope="module")
def plant(test_site):
	"""A serialised, lot-tracked device made of 2 resin (two lots) and 1 circuit board (serial numbers), whose
	lots a UDI Coding Rule numbers; a Work Order for 3 of them."""
	tag = frappe.generate_hash(length=6).upper()
	resin = lot_tracked_stock(10, lots=2)
	board = serialised_stock(3)
	device = make_item(has_batch_no=1, has_serial_no=1, create_new_batch=0).name
	frappe.get_doc(
		{"doctype": "UDI Coding Rule", "number_type": "Lot", "applies_to": "Item", "item": device, "sequence_digits": 4,
		 "sequence_reset": "Yearly", "parts": [{"part": "Text", "text": f"DV{tag}"}, {"part": "Year (YY)"}, {"part": "Sequence"}]}
	).insert()
	work_order = make_work_order(device, {resin.item: 2, board.item: 1}, qty=3)
	frappe.db.commit()
	return frappe._dict(tag=tag, resin=resin, board=board, device=device, work_order=work_order.name)


def test_consumption_starts_the_work_order_and_production_in_parts_completes_it(web_server, background_worker, mes, plant):
	lot_a, lot_b = plant.resin.lots
	b1, b2, b3 = plant.board.serials
	[transfer] = processed(web_server, mes, "mes.consumption.v1", {
		"work_order": plant.work_order,
		"lines": [
			{"udi": udi("Batch", lot_a), "item_code": plant.resin.item, "qty": 4},
			{"batch_no": lot_b, "qty": 2},
			{"udi": as_raw(udi("Serial No", b1)), "qty": 1},
			{"serial_no": b2, "qty": 1},
			{"udi": udi("Serial No", b3, "udi_digital_link"), "item_code": plant.board.item, "qty": 1},
		],
	})
	assert (transfer.doctype, transfer.purpose, transfer.work_order, transfer.docstatus) == (
		"Stock Entry", "Material Transfer for Manufacture", plant.work_order, 1)
	assert moved(transfer.name, "Outward") == sorted([
		(plant.resin.item, STORES, lot_a, None, 4), (plant.resin.item, STORES, lot_b, None, 2),
		*((plant.board.item, STORES, None, serial, 1) for serial in (b1, b2, b3)),
	])
	assert {row.t_warehouse for row in transfer.items} == {WIP}
	work_order = frappe.get_doc("Work Order", plant.work_order)
	assert (work_order.status, work_order.material_transferred_for_manufacturing, work_order.produced_qty) == ("In Process", 3, 0)

	# Partly done: one device, from exactly the lots named; its lot numbered by the item's coding rule.
	s1, s2, s3 = (f"DV{plant.tag}-{n}" for n in (1, 2, 3))
	# Completed a millisecond after the material was moved, in the same second: it is valued from work in progress.
	just_after_transfer = (frappe.db.get_value("Stock Ledger Entry", {"voucher_no": transfer.name}, "posting_datetime")
	                       + datetime.timedelta(milliseconds=1)).isoformat()
	lot, first = processed(web_server, mes, "mes.production.v1", {
		"work_order": plant.work_order, "qty": 1, "serial_nos": [s1], "completed_at": just_after_transfer,
		"consumed": [{"udi": udi("Batch", lot_a), "qty": 2}, {"udi": udi("Serial No", b1), "qty": 1}],
	})
	assert lot.doctype == "Batch" and re.fullmatch(rf"DV{plant.tag}\d{{2}}0001", lot.name), lot.name
	assert (first.purpose, first.work_order, first.docstatus) == ("Manufacture", plant.work_order, 1)
	assert moved(first.name, "Outward") == sorted([(plant.resin.item, WIP, lot_a, None, 2), (plant.board.item, WIP, None, b1, 1)])
	assert moved(first.name, "Inward") == [(plant.device, FINISHED, lot.name, s1, 1)]
	work_order.reload()
	assert (work_order.status, work_order.produced_qty) == ("In Process", 1)

	# The rest, into the same lot, from what is left in work in progress.
	[last] = processed(web_server, mes, "mes.production.v1", {
		"work_order": plant.work_order, "qty": 2, "batch_no": lot.name, "serial_nos": [s2, s3], "completed_at": now()})
	assert moved(last.name, "Outward") == sorted([
		(plant.resin.item, WIP, lot_a, None, 2), (plant.resin.item, WIP, lot_b, None, 2),
		(plant.board.item, WIP, None, b2, 1), (plant.board.item, WIP, None, b3, 1),
	])
	assert moved(last.name, "Inward") == [(plant.device, FINISHED, lot.name, s2, 1), (plant.device, FINISHED, lot.name, s3, 1)]
	work_order.reload()
	assert (work_order.status, work_order.produced_qty) == ("Completed", 3)
	serials = frappe.get_all("Serial No", filters={"item_code": plant.device}, fields=["name", "batch_no", "warehouse", "status"], order_by="name")
	assert [tuple(serial.values()) for serial in serials] == [(s, lot.name, FINISHED, "Active") for s in (s1, s2, s3)]

	# Genealogy: each serial comes from the lots and boards its Manufacture consumed, and from the Work Order.
	work_order_node = node_key("Work Order", plant.work_order)
	assert nodes_at_depth(s1, "backward") == {node_key("Batch", lot_a), node_key("Serial No", b1), work_order_node}
	assert nodes_at_depth(s3, "backward") == {
		node_key("Batch", lot_a), node_key("Batch", lot_b), node_key("Serial No", b2), node_key("Serial No", b3), work_order_node}
	assert nodes_at_depth(lot_b, "forward") == {node_key("Serial No", s2), node_key("Serial No", s3)}
	assert nodes_at_depth(b1, "forward") == {node_key("Serial No", s1)}


@pytest.fixture(scope="module")
def warehouse_stock(test_site):
	lots = lot_tracked_stock(10)
	units = serialised_stock(2)
	customer = make_customer()
	address = frappe.get_doc(
		{"doctype": "Address", "address_title": customer, "address_type": "Shipping", "address_line1": "Renmin Road 9",
		 "city": "Suzhou", "country": "China", "links": [{"link_doctype": "Customer", "link_name": customer}]}
	).insert()
	frappe.db.commit()
	return frappe._dict(lot_item=lots.item, lot=lots.lots[0], unit_item=units.item, unit=units.serials[0], customer=customer,
	                    address=address.name)


def test_transfer_and_pick_by_scanned_udi(web_server, background_worker, wms, warehouse_stock):
	stock = warehouse_stock
	[transfer] = processed(web_server, wms, "wms.transfer.v1", {
		"to_warehouse": FINISHED,
		"lines": [{"udi": udi("Batch", stock.lot), "qty": 6}, {"udi": as_raw(udi("Serial No", stock.unit))}],
	})
	assert (transfer.doctype, transfer.purpose, transfer.docstatus) == ("Stock Entry", "Material Transfer", 1)
	assert [(row.item_code, row.qty, row.s_warehouse, row.t_warehouse) for row in transfer.items] == [
		(stock.lot_item, 6, STORES, FINISHED), (stock.unit_item, 1, STORES, FINISHED)]
	assert moved(transfer.name, "Outward") == sorted([(stock.lot_item, STORES, stock.lot, None, 6), (stock.unit_item, STORES, None, stock.unit, 1)])
	assert moved(transfer.name, "Inward") == sorted([(stock.lot_item, FINISHED, stock.lot, None, 6), (stock.unit_item, FINISHED, None, stock.unit, 1)])

	[note] = processed(web_server, wms, "wms.pick.v1", {
		"customer": stock.customer, "warehouse": FINISHED, "shipping_address": stock.address,
		"lines": [{"udi": udi("Batch", stock.lot, "udi_digital_link"), "qty": 4}, {"udi": udi("Serial No", stock.unit, "udi_digital_link")}],
	})
	assert (note.doctype, note.customer, note.shipping_address_name, note.docstatus) == ("Delivery Note", stock.customer, stock.address, 1)
	assert [(row.item_code, row.qty, row.warehouse) for row in note.items] == [(stock.lot_item, 4, FINISHED), (stock.unit_item, 1, FINISHED)]
	assert moved(note.name, "Outward") == sorted([(stock.lot_item, FINISHED, stock.lot, None, 4), (stock.unit_item, FINISHED, None, stock.unit, 1)])
	assert frappe.db.get_value("Serial No", stock.unit, ["status", "warehouse"]) == ("Delivered", None)


@pytest.fixture(scope="module")
def refusals(test_site):
	"""Work Orders in every state, lots and serials in every situation a message can get wrong."""
	resin = lot_tracked_stock(50)
	other = lot_tracked_stock(5)
	held = lot_tracked_stock(5)
	delivered = serialised_stock(1)
	gauge = make_item(has_serial_no=1, serial_no_series=f"GA{frappe.generate_hash(length=6).upper()}-.####").name
	plain = make_item().name
	components = {resin.item: 1}

	started = make_work_order(gauge, components, qty=2)
	desk_entry(started.name, "Material Transfer for Manufacture", 2)
	not_started = make_work_order(plain, components, qty=1)
	draft = make_work_order(plain, components, qty=1, submit=False)
	stopped = make_work_order(plain, components, qty=1)
	stop_unstop(stopped.name, "Stopped")
	completed = make_work_order(plain, components, qty=1, skip_transfer=1)
	desk_entry(completed.name, "Manufacture", 1)

	customer = make_customer()
	make_delivery(customer, delivered.item, 1, STORES, serial_no=delivered.serials[0])
	recall = frappe.get_doc(
		{"doctype": "Recall", "title": "Recall of a test lot", "classification": "Class II", "trigger": "Internal Finding",
		 "reason": "Out of specification", "scope": [{"batch_no": held.lots[0]}]}
	).insert()
	recall = signed_workflow_action(recall, "Scope Recall")
	frappe.db.commit()
	return frappe._dict(
		resin=resin, lot=resin.lots[0], other=other, held=held.lots[0], recall=recall.name, delivered=delivered.serials[0],
		customer=customer, started=started.name, not_started=not_started.name, draft=draft.name, stopped=stopped.name,
		completed=completed.name,
	)


def consumption(work_order, *lines, **values):
	return lambda r: {"work_order": getattr(r, work_order), "lines": [line(r) for line in lines], **values}


def production(work_order, qty, serial_nos=(), **values):
	return lambda r: {"work_order": getattr(r, work_order), "qty": qty, "serial_nos": [s(r) if callable(s) else s for s in serial_nos],
	                  "completed_at": now(), **values}


def one_of_the_lots(qty=1, **values):
	return lambda r: {"batch_no": r.lot, "qty": qty, **values}


INVALID = [
	# (message type, payload from the fixture, what the refusal says)
	pytest.param("mes.consumption.v1", lambda r: {"work_order": "MFG-WO-NO-SUCH", "lines": [{"batch_no": r.lot, "qty": 1}]},
	             "Unknown work order", id="unknown-work-order"),
	pytest.param("mes.consumption.v1", consumption("not_started", lambda r: {"batch_no": "NO-SUCH-LOT", "qty": 1}),
	             "Line 1: unknown lot", id="unknown-lot"),
	pytest.param("mes.consumption.v1", consumption("not_started", one_of_the_lots(), lambda r: {"serial_no": "NO-SUCH-SERIAL", "qty": 1}),
	             "Line 2: unknown serial number", id="unknown-serial"),
	pytest.param("mes.consumption.v1", consumption("not_started", one_of_the_lots(), from_warehouse="Nowhere - MTD"),
	             "Unknown warehouse", id="unknown-warehouse"),
	pytest.param("mes.consumption.v1", consumption("not_started", lambda r: {"udi": "(01)06951234500993(10)X1", "qty": 1}),
	             "06951234500993 is not registered", id="udi-of-unknown-di"),
	pytest.param("mes.consumption.v1", consumption("not_started", lambda r: {"udi": f"(01){r.resin.di}(10)NO-SUCH-LOT", "qty": 1}),
	             "Batch NO-SUCH-LOT is not in MedTrace", id="udi-of-unknown-lot"),
	pytest.param("mes.consumption.v1", consumption("not_started", lambda r: {"udi": f"(01){r.resin.di}", "qty": 1}),
	             lambda r: f"lacks a lot / batch number (AI 10), which UDI-DI {r.resin.di} requires", id="udi-without-lot-or-serial"),
	pytest.param("mes.consumption.v1", consumption("not_started", lambda r: {"udi": udi("Batch", r.lot), "item_code": r.other.item, "qty": 1}),
	             lambda r: f"belongs to item {r.resin.item}, not to item {r.other.item}", id="item-code-disagrees-with-udi"),
	pytest.param("mes.consumption.v1", consumption("not_started", lambda r: {"udi": udi("Batch", r.other.lots[0]), "qty": 1}),
	             lambda r: f"UDI-DI {r.other.di} is item {r.other.item}, which work order {r.not_started} does not use",
	             id="udi-of-another-item"),
	pytest.param("mes.consumption.v1", consumption("draft", one_of_the_lots()), "is Draft", id="work-order-not-submitted"),
	pytest.param("mes.consumption.v1", consumption("stopped", one_of_the_lots()), "is Stopped", id="work-order-stopped"),
	pytest.param("mes.consumption.v1", consumption("completed", one_of_the_lots()), "is Completed", id="work-order-completed"),
	pytest.param("mes.consumption.v1", consumption("not_started", one_of_the_lots(qty=1000)),
	             lambda r: f"Not enough of lot {r.lot} in warehouse {STORES}: 1000 needed, {get_batch_qty(r.lot, STORES):g} in stock",
	             id="not-enough-stock"),
	pytest.param("mes.consumption.v1", consumption("not_started", one_of_the_lots(udi="(01)06951234500016(10)X")),
	             "exactly one of batch_no, serial_no or udi is required", id="lot-and-udi"),
	pytest.param("mes.production.v1", production("not_started", 1), "Out of order: no material has been moved", id="production-before-transfer"),
	pytest.param("mes.production.v1", production("completed", 1), "is Completed", id="production-after-completion"),
	pytest.param("mes.production.v1", production("started", 3, ["N-1", "N-2", "N-3"]), "has 2 left to produce; 3 were reported",
	             id="more-than-remaining"),
	pytest.param("mes.production.v1", production("started", 2, ["N-1"]), "1 were sent for a quantity of 2", id="serial-count-not-qty"),
	pytest.param("mes.production.v1", production("started", 1, [lambda r: r.delivered]),
	             lambda r: f"Serial number {r.delivered} already exists", id="produced-serial-exists"),
	pytest.param("wms.transfer.v1", lambda r: {"to_warehouse": "Nowhere - MTD", "lines": [{"udi": udi("Batch", r.lot)}]},
	             "Unknown warehouse", id="transfer-to-unknown-warehouse"),
	pytest.param("wms.transfer.v1",
	             lambda r: {"to_warehouse": FINISHED, "lines": [{"udi": udi("Serial No", r.delivered), "qty": 2}]},
	             lambda r: f"serial number {r.delivered} is one unit; its quantity must be 1, not 2", id="serial-qty-not-1"),
	pytest.param("wms.pick.v1", lambda r: {"customer": "Nobody Hospital", "lines": [{"udi": udi("Batch", r.lot)}]},
	             "Unknown customer", id="unknown-customer"),
	pytest.param("wms.pick.v1", lambda r: {"customer": r.customer, "lines": [{"udi": udi("Serial No", r.delivered)}]},
	             lambda r: f"serial number {r.delivered} was already delivered to {r.customer}", id="serial-already-delivered"),
	pytest.param("wms.pick.v1", lambda r: {"customer": r.customer, "lines": [{"udi": udi("Batch", r.held), "qty": 1}]},
	             lambda r: f"on hold for a recall and cannot be delivered or consumed: {r.held} (recall {r.recall})", id="held-lot"),
]


def document_counts() -> dict:
	return {doctype: frappe.db.count(doctype) for doctype in DOCUMENTS}


@pytest.mark.parametrize(("message_type", "payload", "expected"), INVALID)
def test_invalid_messages_are_refused_precisely_and_create_nothing(web_server, mes, refusals, message_type, payload, expected):
	expected = expected(refusals) if callable(expected) else expected
	before = document_counts()
	status, body, message_id = post(web_server, mes, message_type, payload(refusals))
	assert status == 417, body
	frappe.db.rollback()
	log = frappe.get_doc("Integration Message", f"{mes.name}:{message_id}")
	assert log.status == "Rejected" and expected in frappe.utils.strip_html(log.error), log.error
	assert not log.created_documents
	assert document_counts() == before


def test_a_pick_refused_on_submit_fails_and_leaves_nothing_behind(web_server, background_worker, wms):
	"""The check passes, the Delivery Note's own submit refuses (a lot of a DHR-controlled item without a released
	DHR): the message fails, and its half-made documents are rolled back."""
	lots = lot_tracked_stock(5)
	frappe.get_doc({"doctype": "Device Master Record", "item": lots.item, "revision": "A"}).insert()
	customer = make_customer()
	frappe.db.commit()
	before = document_counts()
	status, body, message_id = post(web_server, wms, "wms.pick.v1", {"customer": customer, "lines": [{"udi": udi("Batch", lots.lots[0]), "qty": 2}]})
	assert status == 202, body
	result = outcome(web_server, wms, message_id)
	assert result["status"] == "Failed" and "Device History Record is not released" in result["error"], result
	frappe.db.rollback()
	assert document_counts() == before
	assert not frappe.get_all("Delivery Note", filters={"customer": customer})


def test_every_message_type_documents_a_valid_example():
	schemas = openapi_document()["components"]["schemas"]
	for model in MESSAGE_TYPES.values():
		[example] = schemas[model.__name__]["examples"]
		assert model.model_validate(example)
