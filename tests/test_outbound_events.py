"""Outbound traceability events: a released lot, a recall and its holds, shipments, returns and cancellations
each leave the events other systems follow, with what they need in the payload; a drill leaves none; a
Webhook set up in the Desk pushes them to a receiver over HTTP."""

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import frappe
import pytest
from erpnext.stock.doctype.delivery_note.delivery_note import make_sales_return
from factories import can_sign, default_warehouse, make_customer, make_delivery, make_item, receive_stock, signed_workflow_action
from medtrace.setup.permissions import QUALITY_APPROVER
from offline_seed import TEST_COMPANY
from test_dhr import complete_lot, production, release_as  # noqa: F401 (fixture)
from test_recall import built_plant, make_recall, plant  # noqa: F401 (fixtures)
from test_roles import user_with_role  # noqa: F401 (fixture)

pytestmark = pytest.mark.requirement("MT-EVT-001")


def events_of(reference) -> list[dict]:
	return frappe.get_all(
		"Traceability Event",
		filters={"reference_doctype": reference.doctype, "reference_name": reference.name},
		fields=["event", "item", "batch_no", "serial_no", "serial_nos", "qty", "customer", "udi", "payload"],
		order_by="name",
	)


def test_a_released_lot_is_announced_with_its_serial_numbers(production, user_with_role):
	lot_dhr, _leak = complete_lot(production)
	assert not events_of(lot_dhr)
	release_as(can_sign(user_with_role(QUALITY_APPROVER)), lot_dhr.name)
	[event] = events_of(lot_dhr)
	serials = sorted(frappe.get_all("Serial No", filters={"item_code": production.device}, pluck="name"))
	assert (event.event, event.item, event.batch_no, event.serial_nos.split("\n")) == ("Lot Released", production.device, lot_dhr.batch_no, serials)
	assert event.udi == frappe.db.get_value("Batch", lot_dhr.batch_no, "udi_element_string") and event.udi.startswith("(01)")
	payload = json.loads(event.payload)
	assert payload["release_signature"] == frappe.db.get_value("Device History Record", lot_dhr.name, "release_signature")


def test_recall_scope_and_holds_are_announced_and_a_drill_is_not(plant):
	recall = signed_workflow_action(make_recall(plant, "RA"), "Scope Recall")
	events = events_of(recall)
	[recalled] = [row for row in events if row.event == "Recalled"]
	assert recalled.batch_no == plant.name("RA")
	assert json.loads(recalled.payload)["classification"] == "Class II"
	# One event per held lot, naming the recall.
	held = [row for row in events if row.event == "Held"]
	assert sorted(row.batch_no for row in held) == sorted([plant.name("RA"), plant.name("SA1")])
	assert {json.loads(row.payload)["recall"] for row in held} == {recall.name}

	before = frappe.db.count("Traceability Event")
	drill = signed_workflow_action(make_recall(plant, "RA", is_drill=1), "Scope Recall")
	assert drill.status == "Scoped" and frappe.db.count("Traceability Event") == before

	from medtrace.recall.holds import release_holds

	release_holds(recall.name)
	released = [row for row in events_of(recall) if row.event == "Hold Released"]
	assert sorted(row.batch_no for row in released) == sorted([plant.name("RA"), plant.name("SA1")])


def test_shipments_returns_and_cancellations_are_announced_per_lot():
	item = make_item(has_batch_no=1, create_new_batch=1)
	receive_stock(item.name, 10)
	receive_stock(item.name, 10)
	lots = frappe.get_all("Batch", filters={"item": item.name}, pluck="name", order_by="creation")
	customer = make_customer()
	delivery = frappe.new_doc("Delivery Note")
	delivery.update({"customer": customer, "company": TEST_COMPANY, "currency": "CNY", "conversion_rate": 1})
	for lot, qty in ((lots[0], 3), (lots[1], 4)):
		delivery.append("items", {"item_code": item.name, "qty": qty, "rate": 100, "warehouse": default_warehouse(),
		                          "use_serial_batch_fields": 1, "batch_no": lot})
	delivery.insert()
	delivery.submit()
	shipped = events_of(delivery)
	assert [(row.event, row.batch_no, row.qty, row.customer) for row in shipped] == [
		("Shipped", lots[0], 3, customer), ("Shipped", lots[1], 4, customer)
	]
	assert json.loads(shipped[0].payload)["reference_name"] == delivery.name

	sales_return = frappe.get_doc(make_sales_return(delivery.name))
	sales_return.items = [row for row in sales_return.items if row.batch_no == lots[0]]
	sales_return.items[0].qty = -1
	sales_return.insert()
	sales_return.submit()
	assert [(row.event, row.batch_no, row.qty) for row in events_of(sales_return)] == [("Returned", lots[0], 1)]
	sales_return.cancel()
	delivery.reload()
	delivery.cancel()
	assert [(row.event, row.batch_no, row.qty) for row in events_of(delivery)] == [
		("Shipped", lots[0], 3), ("Shipped", lots[1], 4), ("Shipment Cancelled", lots[0], 3), ("Shipment Cancelled", lots[1], 4)
	]


def test_an_invoice_announces_a_shipment_only_when_it_updates_stock():
	item = make_item(has_batch_no=1, create_new_batch=1)
	receive_stock(item.name, 10)
	lot = frappe.get_all("Batch", filters={"item": item.name}, pluck="name")[0]
	customer = make_customer()
	invoice = make_delivery(customer, item.name, 2, default_warehouse(), doctype="Sales Invoice", batch_no=lot)
	assert [(row.event, row.batch_no, row.qty, row.customer) for row in events_of(invoice)] == [("Shipped", lot, 2, customer)]
	billing_only = make_delivery(customer, item.name, 2, default_warehouse(), submit=False, doctype="Sales Invoice", batch_no=lot)
	billing_only.update_stock = 0
	billing_only.save()
	billing_only.submit()
	assert events_of(billing_only) == []


def test_events_cannot_be_changed_or_made_by_users(plant):
	signed_workflow_action(make_recall(plant, "RA"), "Scope Recall")
	event = frappe.get_last_doc("Traceability Event")
	event.qty = 99
	with pytest.raises(frappe.ValidationError, match="cannot be changed"):
		event.save()
	frappe.set_user("Guest")
	try:
		with pytest.raises(frappe.PermissionError):
			frappe.get_doc({"doctype": "Traceability Event", "event": "Shipped"}).insert()
	finally:
		frappe.set_user("Administrator")


class Receiver(BaseHTTPRequestHandler):
	received: list = []

	def do_POST(self):  # noqa: N802 (http.server's name)
		Receiver.received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
		self.send_response(200)
		self.end_headers()

	def log_message(self, *args):
		pass


def test_a_webhook_set_up_in_the_desk_pushes_each_event(background_worker):
	server = HTTPServer(("127.0.0.1", 0), Receiver)
	threading.Thread(target=server.serve_forever, daemon=True).start()
	Receiver.received.clear()
	webhook = frappe.get_doc(
		{"doctype": "Webhook", "name": "MedTrace Test Events", "enabled": 1, "webhook_doctype": "Traceability Event", "webhook_docevent": "after_insert",
		 "request_url": f"http://127.0.0.1:{server.server_port}/medtrace-events", "request_method": "POST",
		 "request_structure": "JSON", "webhook_json": "{{ doc.payload }}"}
	).insert(set_name="MedTrace Test Events")
	item = make_item(has_batch_no=1, create_new_batch=1)
	receive_stock(item.name, 5)
	lot = frappe.get_all("Batch", filters={"item": item.name}, pluck="name")[0]
	delivery = make_delivery(make_customer(), item.name, 2, default_warehouse(), batch_no=lot)
	frappe.db.commit()
	try:
		for _attempt in range(60):
			if Receiver.received:
				break
			threading.Event().wait(0.5)
		assert [(body["event"], body["batch_no"], body["qty"], body["reference_name"]) for body in Receiver.received] == [
			("Shipped", lot, 2, delivery.name)
		]
	finally:
		server.shutdown()
		frappe.delete_doc("Webhook", webhook.name, force=True)
		frappe.db.commit()
