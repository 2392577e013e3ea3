"""Goods a supplier or contract manufacturer ships, received from their GS1 EPCIS 2.0 document
(wms.epcis_receipt.v1; what is read is described on EpcisReceiptV1, for the senders). Each shipping event
addressed to the system's company becomes the receipt a wms.receipt.v1 message would make, so every check of
a receipt applies to it too; the sender's other events are its own history and are left alone."""

import re

import frappe
from frappe import _
from frappe.utils import escape_html
from pydantic import ValidationError as SchemaError

from medtrace.medtrace_integrations.messages import EpcisReceiptV1, ReceiptV1
from medtrace.packaging.epcis import UOMS, gs1_key_of_uri, party_of_uri
from medtrace.packaging.integration import reject

BIZ_STEP_PREFIX = re.compile(r"^(https://ref\.gs1\.org/cbv/BizStep-|urn:epcglobal:cbv:bizstep:)")
EXPIRY_KEY = re.compile(r"(^|[:/#-])itemExpirationDate$")


def receipts_of_epcis(message: EpcisReceiptV1, system) -> list[ReceiptV1]:
	"""The receipts the document's shipments to the system's company make, one per shipping event."""
	events = event_list(message.document)
	expiry_dates = lot_expiry_dates(events)
	receipts = []
	for number, event in enumerate(events, start=1):
		if is_shipping(event) and party(event, "destination") == ("Company", system.company):
			receipts.append(receipt_of_event(number, event, expiry_dates, message.warehouse))
	if not receipts:
		gln = frappe.db.get_value("Company", system.company, "medtrace_gln")
		reject(
			_("The EPCIS document has no shipping event whose destination is {0} (GLN {1}).").format(
				system.company, gln or _("not recorded on the company")
			)
		)
	return receipts


def event_list(document: dict) -> list[dict]:
	body = document.get("epcisBody")
	events = body.get("eventList") if isinstance(body, dict) else None
	if not isinstance(events, list) or not all(isinstance(event, dict) for event in events):
		reject(_("The payload's document is not an EPCIS 2.0 document: epcisBody.eventList must be a list of events."))
	return events


def entries(event: dict, key: str) -> list[dict]:
	value = event.get(key) or []
	if not isinstance(value, list) or not all(isinstance(entry, dict) for entry in value):
		reject(_("{0} of an EPCIS event must be a list of objects.").format(key))
	return value


def is_shipping(event: dict) -> bool:
	biz_step = event.get("bizStep")
	return event.get("type") == "ObjectEvent" and isinstance(biz_step, str) and BIZ_STEP_PREFIX.sub("", biz_step) == "shipping"


def party(event: dict, side: str) -> tuple[str | None, str | None]:
	"""The Company, Supplier or Customer that owns (else possesses) the goods at one side of the event."""
	found = {entry.get("type"): entry.get(side) for entry in entries(event, f"{side}List")}
	for party_type in ("owning_party", "possessing_party"):
		uri = found.get(party_type) or found.get(f"https://ref.gs1.org/cbv/SDT-{party_type}")
		if isinstance(uri, str):
			return party_of_uri(uri)
	return None, None


def lot_of_class(epc_class) -> tuple[str, str] | None:
	key = gs1_key_of_uri(epc_class) if isinstance(epc_class, str) else None
	return (key[1], key[3]) if key and key[2] == "10" and key[3] else None


def lot_expiry_dates(events: list[dict]) -> dict[tuple[str, str], str]:
	dates = {}
	for event in events:
		ilmd = event.get("ilmd")
		expiry = next((value for key, value in ilmd.items() if EXPIRY_KEY.search(key)), None) if isinstance(ilmd, dict) else None
		if expiry:
			for entry in entries(event, "quantityList"):
				lot = lot_of_class(entry.get("epcClass"))
				if lot:
					dates[lot] = expiry
	return dates


def receipt_of_event(number: int, event: dict, expiry_dates: dict, warehouse: str | None) -> ReceiptV1:
	if event.get("epcList"):
		reject(
			_("Shipping event {0} lists serial numbers (epcList): only lots (quantityList) are received from EPCIS documents.").format(number)
		)
	doctype, supplier = party(event, "source")
	if doctype != "Supplier":
		reject(_("Shipping event {0}: no Supplier has the GLN of its source party.").format(number))
	lines = [receipt_line(number, entry, expiry_dates, warehouse) for entry in entries(event, "quantityList")]
	if not lines:
		reject(_("Shipping event {0} names no lot (quantityList is empty).").format(number))
	delivery_note = next(
		(entry.get("bizTransaction") for entry in entries(event, "bizTransactionList") if str(entry.get("type", "")).endswith("desadv")), None
	)
	try:
		return ReceiptV1.model_validate({"supplier": supplier, "supplier_delivery_note": delivery_note, "lines": lines})
	except SchemaError as error:
		problem = error.errors()[0]
		reject(
			_("Shipping event {0}: {1}: {2}").format(number, ".".join(str(part) for part in problem["loc"]), escape_html(problem["msg"]))
		)


def receipt_line(number: int, entry: dict, expiry_dates: dict, warehouse: str | None) -> dict:
	lot = lot_of_class(entry.get("epcClass"))
	if not lot:
		reject(_("Shipping event {0}: {1} is no lot (an LGTIN, as EPC URN or GS1 Digital Link with AI 10).").format(
			number, escape_html(str(entry.get("epcClass")))))
	gtin, lot_number = lot
	item = item_of_gtin(gtin)
	if not item:
		reject(_("Shipping event {0}: no item has GTIN {1} (as UDI Device Identifier or Item Barcode).").format(number, gtin))
	unit = UOMS.get(frappe.db.get_value("Item", item, "stock_uom"))
	if (entry.get("uom") or None) != unit:
		reject(_("Shipping event {0}: lot {1} is counted in {2}; item {3} is stocked in {4}.").format(
			number, escape_html(lot_number), escape_html(str(entry.get("uom") or _("no unit (a count)"))), item, unit or _("no unit (a count)")))
	return {"item_code": item, "qty": entry.get("quantity"), "supplier_lot": lot_number,
	        "expiry_date": expiry_dates.get(lot), "warehouse": warehouse}


def item_of_gtin(gtin: str) -> str | None:
	"""The item whose base-unit UDI-DI is the GTIN, else whose Item Barcode is (kept as GTIN-14, EAN-13 or UPC-A)."""
	item = frappe.db.get_value("UDI Device Identifier", {"udi_di": gtin, "packaging_level": "Base Unit"}, "item")
	if item:
		return item
	barcodes = [gtin, *([gtin[1:]] if gtin.startswith("0") else []), *([gtin[2:]] if gtin.startswith("00") else [])]
	return frappe.db.get_value("Item Barcode", {"barcode": ("in", barcodes), "parenttype": "Item"}, "parent")
