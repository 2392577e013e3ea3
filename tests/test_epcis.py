"""EPCIS 2.0: the plant of test_trace_links (receipts from a supplier, production, repacking, deliveries and a
return) and a packed case exported as EPCIS JSON-LD — every document parses with GS1's event-hash package
and gives the eventIDs MedTrace wrote, stable across exports; every event has the fields CBV 2.0 requires
for its type; a trace exported as EPCIS reads back to the trace's own lots, serials and parties; the query
endpoint pages; identifiers as Digital Link or EPC URNs (GS1 Tag Data Standard examples)."""

import copy
import json

import frappe
import pytest
from epcis_event_hash_generator import hash_generator, json_to_py

from factories import make_item, receive_stock
from medtrace.packaging.epcis import (
	CBV,
	EVENT_ID_CACHE,
	REQUIRED_FIELDS,
	Identifiers,
	all_events,
	epcis_document,
	private_uri,
	query_events,
	read_epcis_document,
	record_of_uri,
	trace_events,
)
from medtrace.packaging.packing import pack_scans
from medtrace.traceability.engine import trace
from medtrace.traceability.export import download_trace
from offline_seed import TEST_COMPANY
from test_recall import refusal
from test_trace_links import STORES, build_scenario

pytestmark = pytest.mark.requirement("MT-EVT-002")


@pytest.fixture
def plant():
	settings = frappe.get_single("MedTrace Settings")
	settings.gs1_company_prefix = "0695999"
	settings.save()
	plant = build_scenario()
	lots = make_item(has_batch_no=1, create_new_batch=1)
	receive_stock(lots.name, qty=10)
	plant.packed_lot = frappe.db.get_value("Batch", {"item": lots.name})
	plant.case = frappe.get_doc({"doctype": "Package", "company": TEST_COMPANY, "warehouse": STORES}).insert()
	pack_scans(plant.case.name, [{"scan": plant.packed_lot, "qty": 6}])
	return plant


def hashes_by_the_package(document: dict) -> list[str]:
	events = json_to_py.event_list_from_epcis_document_json(copy.deepcopy(document))
	return hash_generator.epcis_hashes_from_events(events)


def test_exported_documents_parse_with_the_hash_package_and_keep_their_event_ids(plant):
	document = epcis_document(all_events())
	events = document["epcisBody"]["eventList"]
	assert {event["type"] for event in events} == {"ObjectEvent", "TransformationEvent", "AggregationEvent"}
	assert hashes_by_the_package(document) == [event["eventID"] for event in events]
	assert len({event["eventID"] for event in events}) == len(events)
	# Again, and again with no cached ids: the same events have the same ids.
	assert [event["eventID"] for event in all_events()] == [event["eventID"] for event in events]
	frappe.cache.delete_value(EVENT_ID_CACHE)
	assert [event["eventID"] for event in all_events()] == [event["eventID"] for event in events]


def test_every_event_has_what_cbv_requires_for_its_type(plant):
	events = all_events()
	for event in events:
		missing = [field for field in REQUIRED_FIELDS[event["type"]] if not event.get(field)]
		assert not missing, (event, missing)
		assert event["bizStep"].startswith(f"{CBV}BizStep-") and event["disposition"].startswith(f"{CBV}Disp-")
		if event["type"] == "ObjectEvent":
			assert event.get("epcList") or event.get("quantityList")
			assert event["action"] in ("ADD", "OBSERVE", "DELETE")
		if event["type"] == "AggregationEvent":
			assert event.get("childEPCs") or event.get("childQuantityList")
		if event["type"] == "TransformationEvent":
			assert (event.get("inputEPCList") or event.get("inputQuantityList")) and (event.get("outputEPCList") or event.get("outputQuantityList"))
		step = event["bizStep"].removeprefix(f"{CBV}BizStep-")
		if step in ("shipping", "receiving"):
			# A change of owner names both parties and the document.
			assert event["sourceList"] and event["destinationList"] and event["bizTransactionList"], event
	# The site may hold other packages (committed by other tests): this plant's case is found by its SSCC.
	packing = [
		event for event in events
		if event["type"] == "AggregationEvent" and event["parentID"] == f"https://id.gs1.org/00/{plant.case.sscc}"
	]
	assert packing and packing[0]["childQuantityList"][0]["quantity"] == 6
	shipping = [event for event in events if event["bizStep"].endswith("shipping")]
	destinations = {entry["destination"] for event in shipping for entry in event["destinationList"]}
	assert destinations >= {private_uri("customer", customer) for customer, _address in plant.customers.values()}


def test_a_trace_downloaded_as_epcis_reads_back_to_the_same_lots_serials_and_parties(plant):
	result = trace(plant.name("RA"), direction="forward", depth=10)
	frappe.local.response = frappe._dict()
	download_trace(plant.name("RA"), "jsonld", direction="forward")  # the Trace Explorer's EPCIS 2.0 button
	assert frappe.local.response.filename.endswith("-forward.jsonld")
	document = json.loads(frappe.local.response.filecontent)
	assert document["epcisBody"] == epcis_document(trace_events(result))["epcisBody"]
	assert hashes_by_the_package(document) == [event["eventID"] for event in document["epcisBody"]["eventList"]]
	read = read_epcis_document(document)
	nodes = {(node["doctype"], node["name"]) for node in result["nodes"] if node["doctype"] in ("Batch", "Serial No")}
	assert {("Batch", name) for name in read["Batch"]} | {("Serial No", name) for name in read["Serial No"]} == nodes
	parties = {("Customer", customer["customer"]) for customer in result["customers"]}
	parties |= {("Supplier", supplier["supplier"]) for supplier in result["suppliers"]}
	assert {party for party in read["parties"] if party[0] != "Company"} == parties
	assert parties


def test_a_traced_lots_epcis_names_every_package_it_travelled_in(plant):
	"""The lot's case was put on a pallet: the trace's EPCIS holds the case's packing and the pallet's."""
	pallet = frappe.get_doc({"doctype": "Package", "packaging_level": "Pallet", "company": TEST_COMPANY, "warehouse": STORES}).insert()
	pack_scans(pallet.name, [f"(00){plant.case.sscc}"])
	events = trace_events(trace(plant.packed_lot, direction="forward"))
	parents = {event["parentID"] for event in events if event["type"] == "AggregationEvent"}
	pallet_sscc = frappe.db.get_value("Package", pallet.name, "sscc")
	assert parents == {f"https://id.gs1.org/00/{plant.case.sscc}", f"https://id.gs1.org/00/{pallet_sscc}"}


def test_query_events_by_lot_pages_and_filters(plant):
	lot = plant.name("RA")
	first = query_events(lot=lot, per_page=1)
	assert first["type"] == "EPCISQueryDocument"
	page = first["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
	assert len(page) == 1 and first["next_page_token"]
	events, token = list(page), first["next_page_token"]
	while token:
		more = query_events(lot=lot, per_page=1, next_page_token=token)
		events += more["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
		token = more.get("next_page_token")
	everything = query_events(lot=lot, per_page=1000)["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
	assert [event["eventID"] for event in events] == [event["eventID"] for event in everything] and len(everything) >= 2
	ra = Identifiers().lot(frappe.db.get_value("Batch", lot, "item"), lot)
	assert all(ra in str(event) for event in everything)
	def in_range(**times):
		return query_events(lot=lot, per_page=1000, **times)["epcisBody"]["queryResults"]["resultsBody"]["eventList"]

	assert in_range(lt_event_time="2000-01-01 00:00:00") == [] and in_range(ge_event_time="2999-01-01 00:00:00") == []
	assert in_range(ge_event_time="2000-01-01 00:00:00", lt_event_time="2999-01-01 00:00:00") == everything
	received = query_events(lot=lot, event_type="ObjectEvent", biz_step="receiving")["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
	assert len(received) == 1 and received[0]["sourceList"]
	assert "does not belong to this query" in refusal(lambda: query_events(lot=plant.name("RB"), next_page_token=first["next_page_token"]))
	assert "Name an EPC or a lot" in refusal(lambda: query_events())
	assert "per_page must be" in refusal(lambda: query_events(lot=lot, per_page=0))
	assert "event_type must be" in refusal(lambda: query_events(lot=lot, event_type="Nonsense"))
	package = query_events(epc=f"https://id.gs1.org/00/{plant.case.sscc}")["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
	assert "AggregationEvent" in {event["type"] for event in package}
	# A serial number of another GS1 key than a GTIN (here an ITIP, AI 8006) names nothing MedTrace keeps.
	assert "names no lot" in refusal(lambda: query_events(epc="https://id.gs1.org/8006/069599901234570102/21/X1"))


def test_identifiers_as_epc_urns_follow_the_tag_data_standard():
	settings = frappe.get_single("MedTrace Settings")
	settings.update({"gs1_company_prefix": "0614141", "epcis_identifier_format": "EPC URN"})
	settings.save()
	item = make_item(has_serial_no=1)
	ids = Identifiers()
	ids.gtins[item.name] = "80614141123458"
	# GS1 EPC Tag Data Standard examples.
	assert ids.serial(item.name, "6789") == "urn:epc:id:sgtin:0614141.812345.6789"
	assert ids.sscc("106141412345678908") == "urn:epc:id:sscc:0614141.1234567890"
	assert ids.lot(item.name, "998877") == "urn:epc:class:lgtin:0614141.812345.998877"
	warehouse = frappe.get_doc("Warehouse", STORES)
	warehouse.medtrace_gln = "0614141123452"
	warehouse.save()
	assert Identifiers().location(STORES) == "urn:epc:id:sgln:0614141.12345.0"
	warehouse.medtrace_gln = "0614141123453"
	assert "must be 13 digits ending in its GS1 check digit" in refusal(warehouse.save)
	serial = frappe.get_doc({"doctype": "Serial No", "serial_no": f"URN-{frappe.generate_hash(length=6)}", "item_code": item.name}).insert()
	assert record_of_uri(f"urn:medtrace:serial:{serial.name}") == ("Serial No", serial.name)
