"""The inbound integration API over real HTTP: token-authenticated systems, schema and reference checks
answered at once, processing by a real background worker, idempotency, logging and replay."""

import json
import time
import urllib.error
import urllib.request

import frappe
import pytest

from factories import make_device_identifier, make_integration_system, make_item, receive_stock
from medtrace.medtrace_integrations.inbound import replay_message
from offline_seed import TEST_COMPANY
from test_production_udi import make_batch, released

pytestmark = pytest.mark.requirement("MT-INT-001")

SYSTEM_ROLES = ("MedTrace Production Operator", "MedTrace Quality Engineer", "Stock User", "Purchase User", "Item Manager")


@pytest.fixture(scope="module")
def mes(test_site):
	return make_integration_system("MES", SYSTEM_ROLES)


def call(web_server, token, method, data=None, http_method="POST"):
	url = f"{web_server}/api/method/medtrace.medtrace_integrations.api_v1.{method}"
	body = None
	if http_method == "GET" and data:
		url += "?" + urllib.parse.urlencode(data)
	elif data is not None:
		body = json.dumps(data).encode()
	request = urllib.request.Request(url, data=body, method=http_method,
	                                 headers={"Authorization": token, "Content-Type": "application/json", "Accept": "application/json"})
	try:
		with urllib.request.urlopen(request, timeout=60) as response:
			return response.status, json.loads(response.read() or b"{}")
	except urllib.error.HTTPError as error:
		return error.code, json.loads(error.read() or b"{}")


def post(web_server, system, message_type, payload, message_id=None):
	message_id = message_id or frappe.generate_hash(length=12)
	status, body = call(web_server, system.token, "post_message", {"message_type": message_type, "message_id": message_id, "payload": payload})
	return status, body, message_id


# The worker starts cold and first works off what earlier tests queued (users' contacts, search indexes).
def outcome(web_server, system, message_id, timeout=180):
	deadline = time.monotonic() + timeout
	while time.monotonic() < deadline:
		status, body = call(web_server, system.token, "get_message", {"message_id": message_id}, "GET")
		if status == 200 and body["message"]["status"] not in ("Queued", "Retrying"):
			return body["message"]
		time.sleep(0.3)
	raise AssertionError(f"message {message_id} still not processed")


def server_message(body) -> str:
	return json.dumps(body)


@pytest.fixture(scope="module")
def lot(test_site):
	item = make_item(has_batch_no=1, create_new_batch=1)
	released(make_device_identifier(item=item.name, label_expiry_date=0))
	receive_stock(item.name, qty=10)
	batch = frappe.get_all("Batch", filters={"item": item.name}, pluck="name")[0]
	frappe.db.commit()
	return frappe._dict(item=item.name, batch=batch)


def reading(**overrides):
	return {"parameter": "Sealing Temperature", "value": 181.5, "unit": "°C", "lower_limit": 170, "upper_limit": 190,
	        "recorded_at": "2026-11-20T08:30:00", **overrides}


@pytest.mark.requirement("MT-INT-002", "MT-DHR-005")
def test_valid_reading_creates_a_process_parameter_record(web_server, background_worker, mes, lot):
	status, body, message_id = post(web_server, mes, "mes.process_parameter.v1", reading(batch_no=lot.batch))
	assert status == 202, body
	result = outcome(web_server, mes, message_id)
	assert result["status"] == "Processed", result
	[document] = result["documents"]
	frappe.db.rollback()
	record = frappe.get_doc(document["doctype"], document["name"])
	assert (record.parameter, record.value, record.batch_no, record.source, record.owner) == (
		"Sealing Temperature", 181.5, lot.batch, "MES", frappe.db.get_value("Integration System", mes.name, "api_user"))


def test_resend_is_refused_and_creates_nothing(web_server, background_worker, mes, lot):
	status, _body, message_id = post(web_server, mes, "mes.process_parameter.v1", reading(batch_no=lot.batch, value=175))
	assert status == 202
	outcome(web_server, mes, message_id)
	status, body, _ = post(web_server, mes, "mes.process_parameter.v1", reading(batch_no=lot.batch, value=175), message_id)
	assert status == 409 and "already received" in server_message(body)
	frappe.db.rollback()
	assert frappe.db.count("Process Parameter Record", {"external_id": f"{mes.name}:{message_id}"}) == 1


@pytest.mark.parametrize(
	("message_type", "payload", "expected"),
	[
		("mes.process_parameter.v1", {"parameter": "T", "value": "hot", "recorded_at": "2026-11-20T08:30:00", "batch_no": "X"}, "value: Input should be a valid number"),
		("mes.process_parameter.v1", {"parameter": "T", "value": 1, "recorded_at": "2026-11-20T08:30:00"}, "one of work_order, batch_no or serial_no is required"),
		("mes.process_parameter.v1", reading(batch_no="NO-SUCH-LOT"), "Unknown lot"),
		("mes.unknown.v9", {}, "Unknown message type"),
		("wms.receipt.v1", {"supplier": "Nobody Ltd", "lines": [{"item_code": "X", "qty": 1}]}, "Unknown supplier"),
	],
)
def test_invalid_messages_are_rejected_precisely_and_logged(web_server, mes, message_type, payload, expected):
	status, body, message_id = post(web_server, mes, message_type, payload)
	assert status == 417, body
	assert expected in server_message(body)
	frappe.db.rollback()
	log = frappe.get_doc("Integration Message", f"{mes.name}:{message_id}")
	assert log.status == "Rejected" and expected.split(":")[0] in log.error
	assert not log.created_documents


@pytest.mark.requirement("MT-INT-002")
def test_reading_for_a_work_order_not_started_is_out_of_order(web_server, mes, lot):
	bom = frappe.get_doc({"doctype": "BOM", "item": make_item().name, "quantity": 1, "company": TEST_COMPANY,
	                      "items": [{"item_code": lot.item, "qty": 1, "rate": 1}]}).insert()
	bom.submit()
	work_order = frappe.get_doc({"doctype": "Work Order", "production_item": bom.item, "bom_no": bom.name, "qty": 1,
	                             "company": TEST_COMPANY, "wip_warehouse": "Work In Progress - MTD", "fg_warehouse": "Finished Goods - MTD"}).insert()
	work_order.submit()
	frappe.db.commit()
	status, body, _ = post(web_server, mes, "mes.process_parameter.v1", reading(work_order=work_order.name))
	assert status == 417 and "Out of order" in server_message(body)


def test_bad_token_is_refused(web_server, mes):
	status, _body = call(web_server, "token nope:nope", "post_message", {"message_type": "mes.process_parameter.v1", "message_id": "x", "payload": {}})
	assert status in (401, 403)


@pytest.mark.requirement("MT-INT-002")
def test_lims_result_becomes_a_submitted_quality_inspection(web_server, background_worker, mes, lot):
	from test_dhr import make_inspection_template

	template = make_inspection_template("MT LIMS Bioburden", "Bioburden CFU", 0, 100)
	frappe.db.commit()
	status, body, message_id = post(web_server, mes, "lims.test_result.v1", {
		"batch_no": lot.batch, "quality_inspection_template": template, "tested_at": "2026-11-21T10:00:00",
		"readings": [{"parameter": "Bioburden CFU", "value": 12}],
		"udi": frappe.db.get_value("Batch", lot.batch, "udi_element_string")})
	assert status == 202, body
	result = outcome(web_server, mes, message_id)
	assert result["status"] == "Processed", result
	frappe.db.rollback()
	inspection = frappe.get_doc("Quality Inspection", result["documents"][0]["name"])
	assert (inspection.docstatus, inspection.status, inspection.batch_no) == (1, "Accepted", lot.batch)


@pytest.mark.requirement("MT-INT-002")
def test_lims_result_with_another_lots_label_is_wrong_udi(web_server, mes, lot):
	other = make_batch(lot.item, expiry_date="2030-01-01")
	frappe.db.commit()
	status, body, _ = post(web_server, mes, "lims.test_result.v1", {
		"batch_no": lot.batch, "quality_inspection_template": "MT LIMS Bioburden", "tested_at": "2026-11-21T10:00:00",
		"readings": [{"parameter": "Bioburden CFU", "value": 12}], "udi": other.udi_element_string})
	assert status == 417 and "Wrong UDI" in server_message(body)


@pytest.mark.requirement("MT-INT-002")
def test_wms_receipt_creates_lot_with_supplier_lot(web_server, background_worker, mes):
	item = make_item(has_batch_no=1)
	supplier = frappe.get_doc({"doctype": "Supplier", "supplier_name": f"Resin Co {frappe.generate_hash(length=4)}"}).insert()
	supplier_lot = f"RS-{frappe.generate_hash(length=8).upper()}"  # committed data outlives the test run
	frappe.db.commit()
	status, body, message_id = post(web_server, mes, "wms.receipt.v1", {
		"supplier": supplier.name, "lines": [{"item_code": item.name, "qty": 25, "rate": 3, "supplier_lot": supplier_lot}]})
	assert status == 202, body
	result = outcome(web_server, mes, message_id)
	assert result["status"] == "Processed", result
	frappe.db.rollback()
	batch = frappe.get_all("Batch", filters={"item": item.name}, fields=["name", "medtrace_supplier_lot", "supplier", "batch_qty"])
	assert [(b.name, b.medtrace_supplier_lot, b.supplier, b.batch_qty) for b in batch] == [(supplier_lot, supplier_lot, supplier.name, 25)]


@pytest.mark.requirement("MT-INT-003")
def test_replay_after_fix_succeeds_once(web_server, mes, lot):
	status, _body, message_id = post(web_server, mes, "mes.process_parameter.v1", reading(batch_no="LOT-TO-COME"))
	assert status == 417
	frappe.db.rollback()
	make_batch(lot.item, "LOT-TO-COME-" + message_id[:6], expiry_date="2030-01-01")
	log = frappe.get_doc("Integration Message", f"{mes.name}:{message_id}")
	log.payload = json.dumps(reading(batch_no="LOT-TO-COME-" + message_id[:6]))
	log.save()
	assert replay_message(log.name) == "Processed"
	with pytest.raises(frappe.ValidationError, match="already processed"):
		replay_message(log.name)


def test_openapi_document_is_served_and_matches_the_repository(web_server, mes):
	from bench_tool import APP_SOURCE
	from medtrace.medtrace_integrations.openapi import openapi_document

	status, body = call(web_server, mes.token, "openapi", http_method="GET")
	assert status == 200
	assert body["message"] == openapi_document()
	assert json.loads((APP_SOURCE / "docs" / "openapi.json").read_text()) == openapi_document()


@pytest.mark.requirement("MT-INT-003")
def test_drains_share_a_backlog_without_waiting_on_each_other(test_site, mes):
	"""Two drains on two connections: while one holds the oldest waiting message, the other takes the next
	one at once instead of waiting for the lock; a message no drain holds any more is taken again."""
	import threading

	from frappe.utils.background_jobs import get_queue
	from rq.registry import StartedJobRegistry

	from medtrace.medtrace_integrations.inbound import QUEUE, claim_next_message

	# The worker's own drains would take these messages first, being the oldest: let them finish.
	queue = get_queue(QUEUE)
	deadline = time.monotonic() + 60
	while time.monotonic() < deadline and (queue.count or StartedJobRegistry(queue=queue).count):
		time.sleep(0.2)
	names = []
	for minutes_ago in (600, 599):
		log = frappe.get_doc(
			{"doctype": "Integration Message", "integration_system": mes.name, "message_type": "mes.process_parameter.v1",
			 "client_message_id": frappe.generate_hash(length=12), "payload": "{}", "status": "Queued",
			 "received_at": frappe.utils.add_to_date(frappe.utils.now_datetime(), minutes=-minutes_ago)}
		).insert(ignore_permissions=True)
		names.append(log.name)
	frappe.db.commit()
	sites_path, claimed, holding, release = frappe.local.sites_path, {}, threading.Event(), threading.Event()

	def first_drain() -> None:
		frappe.init(site=test_site, sites_path=sites_path)
		frappe.connect()
		try:
			claimed["first"] = claim_next_message()
			holding.set()
			release.wait(timeout=60)
			frappe.db.rollback()
		finally:
			frappe.destroy()

	thread = threading.Thread(target=first_drain)
	thread.start()
	try:
		assert holding.wait(timeout=60)
		started = time.monotonic()
		second = claim_next_message()
		assert time.monotonic() - started < 5
		assert (claimed["first"], second) == (names[0], names[1])
	finally:
		release.set()
		thread.join(timeout=60)
	frappe.db.rollback()
	assert claim_next_message() == names[0]
	frappe.db.rollback()
	frappe.db.delete("Integration Message", {"name": ("in", names)})
	frappe.db.commit()
