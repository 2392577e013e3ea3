"""A contract manufacturer's EPCIS 2.0 document received through the integration API (wms.epcis_receipt.v1):
its shipments to this company become Purchase Receipts with the lots, quantities, expiry dates and supplier
it names, found by GTIN and GLN; what MedTrace cannot receive from it is refused at once, and nothing is made."""

import copy
import random

import frappe
import pytest
from biip.checksums import gs1_standard_check_digit
from epcis_event_hash_generator import hash_generator, json_to_py

from factories import make_device_identifier, make_integration_system, make_item, unique_gtin
from medtrace.packaging.epcis import CONTEXT, events_of_nodes, read_epcis_document
from medtrace.traceability.engine import trace
from offline_seed import TEST_COMPANY
from test_integration_api import SYSTEM_ROLES, outcome, post, server_message

pytestmark = pytest.mark.requirement("MT-EVT-003")

MESSAGE_TYPE = "wms.epcis_receipt.v1"


def unique_gln() -> str:
	body = "0695998" + f"{random.randrange(10**5):05d}"
	return body + str(gs1_standard_check_digit(body))


@pytest.fixture(scope="module")
def partners(test_site):
	"""The contract manufacturer (a Supplier with a GLN), this company's GLN and two items the manufacturer
	ships: one known by its UDI Device Identifier, one by an Item Barcode (EAN-13). Committed for the web server."""
	company_gln = frappe.db.get_value("Company", TEST_COMPANY, "medtrace_gln")
	if not company_gln:
		frappe.db.set_value("Company", TEST_COMPANY, "medtrace_gln", unique_gln())
	supplier = frappe.get_doc(
		{"doctype": "Supplier", "supplier_name": f"Contract Maker {frappe.generate_hash(length=6)}", "medtrace_gln": unique_gln()}
	).insert()
	by_udi = make_item(has_batch_no=1)
	di = make_device_identifier(item=by_udi.name)
	by_barcode = make_item(has_batch_no=1, stock_uom="Kg")
	barcode = unique_gtin()  # kept on the item as its EAN-13, the GTIN-14 without the leading zero
	by_barcode.append("barcodes", {"barcode": barcode[1:], "barcode_type": "EAN"})
	by_barcode.save()
	system = make_integration_system("WMS", SYSTEM_ROLES)
	frappe.db.commit()
	yield frappe._dict(
		company_gln=frappe.db.get_value("Company", TEST_COMPANY, "medtrace_gln"), supplier=supplier.name, supplier_gln=supplier.medtrace_gln, system=system,
		by_udi=frappe._dict(item=by_udi.name, gtin=di.udi_di), by_barcode=frappe._dict(item=by_barcode.name, gtin=barcode),
	)
	frappe.db.set_value("Company", TEST_COMPANY, "medtrace_gln", company_gln)
	frappe.db.commit()


def lgtin(gtin: str, lot: str) -> str:
	return f"urn:epc:class:lgtin:{gtin[1:8]}.{gtin[0]}{gtin[8:13]}.{lot}"


def pgln(gln: str) -> str:
	return f"urn:epc:id:pgln:{gln[:7]}.{gln[7:12]}"


def shipment(partners, lots: dict, **changes) -> dict:
	"""The manufacturer's document: commissioning with expiry dates, its own production (left alone), a
	shipment to another party (left alone) and the shipment to this company; lots as {lot uri: (quantity, uom)}."""
	source = [{"type": "owning_party", "source": pgln(partners.supplier_gln)}]
	shipping = {
		"type": "ObjectEvent", "eventTime": "2026-11-30T08:00:00.000Z", "eventTimeZoneOffset": "+08:00", "action": "OBSERVE",
		"bizStep": "shipping", "disposition": "in_transit", "readPoint": {"id": f"https://id.gs1.org/414/{partners.supplier_gln}"},
		"quantityList": [{"epcClass": uri, "quantity": qty, **({"uom": uom} if uom else {})} for uri, (qty, uom) in lots.items()],
		"bizTransactionList": [{"type": "desadv", "bizTransaction": "urn:epcglobal:cbv:bt:0695998000001:ASN-2611-07"}],
		"sourceList": source,
		"destinationList": [{"type": "owning_party", "destination": f"https://id.gs1.org/417/{partners.company_gln}"}],
		**changes,
	}
	elsewhere = {**shipping, "destinationList": [{"type": "owning_party", "destination": pgln(unique_gln())}], "quantityList": shipping["quantityList"][:1]}
	commissioning = {
		"type": "ObjectEvent", "eventTime": "2026-11-28T08:00:00.000Z", "eventTimeZoneOffset": "+08:00", "action": "ADD",
		"bizStep": "commissioning", "disposition": "active", "readPoint": shipping["readPoint"],
		"quantityList": shipping["quantityList"], "ilmd": {"cbvmda:itemExpirationDate": "2028-11-27"},
	}
	production = {
		"type": "TransformationEvent", "eventTime": "2026-11-28T07:00:00.000Z", "eventTimeZoneOffset": "+08:00",
		"bizStep": "assembling", "disposition": "active", "readPoint": shipping["readPoint"],
		"inputQuantityList": [{"epcClass": lgtin(unique_gtin(), "RESIN-7"), "quantity": 3, "uom": "KGM"}],
		"outputQuantityList": shipping["quantityList"],
	}
	return {
		"@context": [CONTEXT], "type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": "2026-11-30T08:05:00.000Z",
		"epcisBody": {"eventList": [production, commissioning, elsewhere, shipping]},
	}


def new_lot() -> str:
	return f"CM-{frappe.generate_hash(length=8).upper()}"


@pytest.mark.requirement("MT-INT-002")
def test_a_shipment_to_this_company_is_received_with_its_lots_expiry_and_supplier(web_server, background_worker, partners):
	first, second = new_lot(), new_lot()
	document = shipment(partners, {
		lgtin(partners.by_udi.gtin, first): (120, None),
		f"https://id.gs1.org/01/{partners.by_barcode.gtin}/10/{second}": (12.5, "KGM"),
	})
	assert len(hash_generator.epcis_hashes_from_events(json_to_py.event_list_from_epcis_document_json(copy.deepcopy(document)))) == 4
	status, body, message_id = post(web_server, partners.system, MESSAGE_TYPE, {"document": document})
	assert status == 202, body
	result = outcome(web_server, partners.system, message_id)
	assert result["status"] == "Processed", result
	frappe.db.rollback()
	[receipt] = [frappe.get_doc("Purchase Receipt", row["name"]) for row in result["documents"] if row["doctype"] == "Purchase Receipt"]
	assert (receipt.docstatus, receipt.supplier, receipt.company, receipt.supplier_delivery_note) == (
		1, partners.supplier, TEST_COMPANY, "urn:epcglobal:cbv:bt:0695998000001:ASN-2611-07")
	received = {(row.item_code, row.batch_no, row.qty) for row in receipt.items}
	assert received == {(partners.by_udi.item, first, 120), (partners.by_barcode.item, second, 12.5)}
	for lot in (first, second):
		batch = frappe.get_doc("Batch", lot)
		assert (batch.medtrace_supplier_lot, batch.supplier, str(batch.expiry_date)) == (lot, partners.supplier, "2028-11-27")

	# The receipt is in MedTrace's history as any other: traced back to the manufacturer, and exported as
	# EPCIS with the manufacturer as the source of the lots it sent.
	assert [row["supplier"] for row in trace(first, direction="backward")["suppliers"]] == [partners.supplier]
	read = read_epcis_document({"epcisBody": {"eventList": events_of_nodes({f"Batch::{first}", f"Batch::{second}"})}})
	assert read["Batch"] == {first, second}
	assert ("Supplier", partners.supplier) in read["parties"]


@pytest.mark.parametrize(
	("change", "refusal"),
	[
		(lambda doc, partners: doc["epcisBody"].update(eventList={"not": "a list"}), "epcisBody.eventList must be a list"),
		(lambda doc, partners: doc["epcisBody"]["eventList"].pop(), "no shipping event whose destination is"),
		(lambda doc, partners: doc["epcisBody"]["eventList"][-1].update(epcList=["urn:epc:id:sgtin:0695999.012345.1"]), "lists serial numbers"),
		(lambda doc, partners: doc["epcisBody"]["eventList"][-1]["sourceList"][0].update(source=pgln(unique_gln())), "no Supplier has the GLN"),
		(lambda doc, partners: doc["epcisBody"]["eventList"][-1]["quantityList"][0].update(epcClass="urn:epc:idpat:sgtin:0695999.012345.*"), "is no lot"),
		(lambda doc, partners: doc["epcisBody"]["eventList"][-1]["quantityList"][0].update(epcClass=lgtin("10695997000007", "X")), "no item has GTIN"),
		(lambda doc, partners: doc["epcisBody"]["eventList"][-1]["quantityList"][0].update(uom="KGM"), "is stocked in"),
		(lambda doc, partners: doc["epcisBody"]["eventList"][-1]["quantityList"][0].update(quantity="lots"), "lines.0.qty"),
		(lambda doc, partners: doc["epcisBody"]["eventList"][-1]["quantityList"][0].update(quantity=-4), "lines.0.qty"),
	],
)
def test_what_cannot_be_received_is_refused_at_once_and_makes_nothing(web_server, partners, change, refusal):
	lot = new_lot()
	document = shipment(partners, {lgtin(partners.by_udi.gtin, lot): (10, None)})
	change(document, partners)
	status, body, _message_id = post(web_server, partners.system, MESSAGE_TYPE, {"document": document})
	assert status == 417 and refusal in server_message(body), body
	frappe.db.rollback()
	assert not frappe.db.exists("Batch", lot)


def test_cbv_uris_a_possessing_party_and_the_full_ilmd_key_are_read_as_well(partners):
	from medtrace.medtrace_integrations.messages import EpcisReceiptV1
	from medtrace.packaging.epcis_receipt import receipts_of_epcis

	lot = new_lot()
	document = shipment(partners, {lgtin(partners.by_udi.gtin, lot): (7, None)}, bizStep="https://ref.gs1.org/cbv/BizStep-shipping")
	commissioning, shipping = document["epcisBody"]["eventList"][1], document["epcisBody"]["eventList"][-1]
	commissioning["ilmd"] = {"urn:epcglobal:cbv:mda#itemExpirationDate": "2029-01-31"}
	shipping["destinationList"] = [{"type": "https://ref.gs1.org/cbv/SDT-possessing_party", "destination": f"https://id.gs1.org/417/{partners.company_gln}"}]
	[receipt] = receipts_of_epcis(EpcisReceiptV1(document=document), frappe.get_doc("Integration System", partners.system.name))
	assert receipt.supplier == partners.supplier
	assert [(line.item_code, line.supplier_lot, line.qty, str(line.expiry_date)) for line in receipt.lines] == [
		(partners.by_udi.item, lot, 7, "2029-01-31")]
