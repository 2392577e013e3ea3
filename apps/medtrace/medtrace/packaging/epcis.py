"""MedTrace's history as GS1 EPCIS 2.0 events (JSON-LD), for partners and regulators who follow goods in the
industry's standard form.

Events are built from what MedTrace already records — Trace Links of submitted stock documents and
Package Events — never stored twice:
- receiving from a supplier, shipping to a customer, returns: ObjectEvent OBSERVE (CBV receiving /
  shipping, disposition in_progress / in_transit / returned), with the document in bizTransactionList
  and the parties in sourceList / destinationList; a shipment also lists the packages that left whole;
- lots and serial numbers coming into being (production output, material receipts, opening stock):
  ObjectEvent ADD, commissioning, active;
- production, repacking, disassembly, subcontracting: TransformationEvent from the input lots and serial
  numbers with their quantities to the outputs (the Work Order as transformationID);
- packing and unpacking: AggregationEvent ADD / DELETE with the package (SSCC) as parentID.
Places are GLNs recorded on Warehouse, parties GLNs on Company, Supplier and Customer (custom field GLN);
identifiers are GS1 Digital Link URIs on the site's resolver domain or EPC URNs (MedTrace Settings).
Records without a GS1 key (an item without a GS1 UDI-DI, a warehouse without a GLN) are named by
urn:medtrace:… URIs. eventIDs are the CBV 2.0 event hash (package epcis-event-hash-generator): an event
exported twice has the same id; as computing them is the slow part, ids are cached by the event's content.
"""

import base64
import hashlib
import json
import re
from collections import defaultdict
from urllib.parse import quote, unquote
from zoneinfo import ZoneInfo

import frappe
import redis
from biip.checksums import gs1_standard_check_digit
from biip.gs1_digital_link_uris import GS1DigitalLinkURI
from frappe import _
from frappe.utils import cint, flt, get_datetime, get_system_timezone, now_datetime

CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
CBV = "https://ref.gs1.org/cbv/"
DIGITAL_LINK, EPC_URN = "GS1 Digital Link", "EPC URN"
EVENT_ID_CACHE = "medtrace-epcis-event-ids"
MAX_PAGE_SIZE = 1000

# Trace Link movement events: (action, bizStep, disposition, whether the party is the destination).
MOVEMENTS = {
	"Receipt": ("OBSERVE", "receiving", "in_progress", False),
	"Subcontract Receipt": ("OBSERVE", "receiving", "in_progress", False),
	"Sales Return": ("OBSERVE", "receiving", "returned", False),
	"Delivery": ("OBSERVE", "shipping", "in_transit", True),
	"Purchase Return": ("OBSERVE", "shipping", "returned", True),
	"Send to Subcontractor": ("OBSERVE", "shipping", "in_transit", True),
	"Production": ("ADD", "commissioning", "active", None),
	"Material Receipt": ("ADD", "commissioning", "active", None),
	"Opening Stock": ("ADD", "commissioning", "active", None),
}
# Trace Link consumption events: the bizStep of their TransformationEvent.
TRANSFORMATIONS = {
	"Manufacture": "assembling",
	"Material Consumption for Manufacture": "assembling",
	"Subcontracting": "assembling",
	"Repack": "repackaging",
	"Disassemble": "disassembling",
}
# Business transaction types (CBV BTT) of the documents named in events.
TRANSACTION_TYPES = {
	"Delivery Note": "desadv",
	"Sales Invoice": "inv",
	"Purchase Receipt": "recadv",
	"Purchase Invoice": "inv",
	"Subcontracting Receipt": "recadv",
	"Work Order": "prodorder",
}
PACKAGE_EVENTS = {"Pack": ("ADD", "packing"), "Add": ("ADD", "packing"), "Remove": ("DELETE", "unpacking"), "Unpack": ("DELETE", "unpacking")}
# Stock UOMs with their UN/CEFACT Rec. 20 code; a count (Nos) has none.
UOMS = {"Kg": "KGM", "Gram": "GRM", "Litre": "LTR", "Millilitre": "MLT", "Meter": "MTR", "Box": "BX", "Pair": "PR"}
# What EPCIS 2.0 / CBV 2.0 require of each event type MedTrace writes.
REQUIRED_FIELDS = {
	"ObjectEvent": ("eventID", "eventTime", "eventTimeZoneOffset", "action", "bizStep", "disposition", "readPoint"),
	"AggregationEvent": ("eventID", "eventTime", "eventTimeZoneOffset", "action", "parentID", "bizStep", "disposition", "readPoint"),
	"TransformationEvent": ("eventID", "eventTime", "eventTimeZoneOffset", "bizStep", "disposition", "readPoint"),
}


def cbv(kind: str, value: str) -> str:
	return f"{CBV}{kind}-{value}"


def private_uri(kind: str, *parts: str) -> str:
	return ":".join(["urn:medtrace", kind, *(quote(str(part), safe="") for part in parts)])


# Identifiers


class Identifiers:
	"""GS1 keys of MedTrace's records as URIs, in the configured form; one per export, caching look-ups."""

	def __init__(self):
		settings = frappe.get_cached_doc("MedTrace Settings")
		self.urn = settings.epcis_identifier_format == EPC_URN
		self.domain = settings.digital_link_domain or "id.gs1.org"
		self.company_prefix = settings.gs1_company_prefix or ""
		self.gtins = {
			row.item: row.udi_di
			for row in frappe.get_all(
				"UDI Device Identifier",
				filters={"packaging_level": "Base Unit", "status": "Released", "issuing_agency": "GS1"},
				fields=["item", "udi_di"],
				order_by="creation",
			)
		}
		self.glns = {}

	def prefix_length(self, key: str) -> int:
		"""The GS1 Company Prefix inside a key: MedTrace's own when the key starts with it, else 7 digits."""
		return len(self.company_prefix) if self.company_prefix and key.startswith(self.company_prefix) else 7

	def gtin_parts(self, gtin: str) -> tuple[str, str]:
		length = self.prefix_length(gtin[1:])
		return gtin[1 : 1 + length], gtin[0] + gtin[1 + length : 13]

	def serial(self, item: str, serial_no: str) -> str:
		return self.item_instance("serial", item, serial_no)

	def lot(self, item: str, batch_no: str) -> str:
		return self.item_instance("lot", item, batch_no)

	def item_instance(self, kind: str, item: str, name: str) -> str:
		"""A serial number (SGTIN, AI 21) or a lot (LGTIN, AI 10) of an item with a released GTIN."""
		gtin = self.gtins.get(item)
		if not gtin:
			# Serial No and Batch names are unique in ERPNext: the name alone identifies the record.
			return private_uri(kind, name)
		scheme, ai = {"serial": ("id:sgtin", "21"), "lot": ("class:lgtin", "10")}[kind]
		if self.urn:
			company, reference = self.gtin_parts(gtin)
			return f"urn:epc:{scheme}:{company}.{reference}.{quote(name, safe='')}"
		return f"https://{self.domain}/01/{gtin}/{ai}/{quote(name, safe='')}"

	def sscc(self, sscc: str) -> str:
		if self.urn:
			length = self.prefix_length(sscc[1:])
			return f"urn:epc:id:sscc:{sscc[1 : 1 + length]}.{sscc[0]}{sscc[1 + length : 17]}"
		return f"https://{self.domain}/00/{sscc}"

	def package(self, package: dict) -> str:
		if package.get("sscc"):
			return self.sscc(package["sscc"])
		if package.get("package_serial"):
			di = package["udi_device_identifier"]
			if self.urn:
				company, reference = self.gtin_parts(di)
				return f"urn:epc:id:sgtin:{company}.{reference}.{quote(package['package_serial'], safe='')}"
			return f"https://{self.domain}/01/{di}/21/{quote(package['package_serial'], safe='')}"
		return private_uri("package", package["name"])

	def gln(self, doctype: str, name: str) -> str | None:
		key = (doctype, name)
		if key not in self.glns:
			self.glns[key] = frappe.db.get_value(doctype, name, "medtrace_gln") if name else None
		return self.glns[key]

	def location(self, warehouse: str | None) -> str | None:
		if not warehouse:
			return None
		gln = self.gln("Warehouse", warehouse)
		if not gln:
			return private_uri("warehouse", warehouse)
		if self.urn:
			length = self.prefix_length(gln)
			return f"urn:epc:id:sgln:{gln[:length]}.{gln[length:12]}.0"
		return f"https://{self.domain}/414/{gln}"

	def party(self, doctype: str, name: str) -> str:
		gln = self.gln(doctype, name)
		if not gln:
			return private_uri(frappe.scrub(doctype), name)
		if self.urn:
			length = self.prefix_length(gln)
			return f"urn:epc:id:pgln:{gln[:length]}.{gln[length:12]}"
		return f"https://{self.domain}/417/{gln}"


def transaction(voucher_type: str, voucher_no: str) -> dict | None:
	kind = TRANSACTION_TYPES.get(voucher_type)
	return {"type": cbv("BTT", kind), "bizTransaction": private_uri("bt", voucher_type, voucher_no)} if kind else None


def event_time(value) -> tuple[str, str]:
	"""ISO 8601 with the system time zone's offset, as EPCIS wants it, and the offset."""
	moment = get_datetime(value).replace(tzinfo=ZoneInfo(get_system_timezone()))
	offset = moment.strftime("%z")
	return moment.isoformat(timespec="milliseconds"), f"{offset[:3]}:{offset[3:]}"


def quantity_element(ids: Identifiers, item: str, batch_no: str, qty: float, uom: str | None) -> dict:
	element = {"epcClass": ids.lot(item, batch_no), "quantity": round(flt(qty), 6)}
	if UOMS.get(uom):
		element["uom"] = UOMS[uom]
	return element


def what(ids: Identifiers, units, uoms: dict) -> tuple[list, list]:
	"""(EPC list, quantity list) of units: serial numbers by instance, lots by class with their summed quantity."""
	epcs, lots = set(), defaultdict(float)
	for unit in units:
		if unit["serial_no"]:
			epcs.add(ids.serial(unit["item"], unit["serial_no"]))
		elif unit["batch_no"]:
			lots[(unit["item"], unit["batch_no"])] += flt(unit["qty"])
	quantities = [quantity_element(ids, item, lot, qty, uoms.get(item)) for (item, lot), qty in sorted(lots.items())]
	return sorted(epcs), quantities


def place(ids: Identifiers, warehouse: str | None) -> dict:
	location = ids.location(warehouse)
	return {"readPoint": {"id": location}, "bizLocation": {"id": location}} if location else {}


# Events from movements, consumptions and packing


def node_unit(node: str, item: str, qty: float) -> dict:
	doctype, _sep, name = node.partition("::")
	return {"item": item, "serial_no": name if doctype == "Serial No" else None,
	        "batch_no": name if doctype == "Batch" else None, "qty": qty}


def movement_events(ids: Identifiers, movements: list[dict], uoms: dict, shipped_packages: dict) -> list[dict]:
	"""One ObjectEvent per document, event, party and warehouse. A movement: node, item, event, qty, warehouse,
	voucher_type, voucher_no, posting_datetime, party_type, party, company."""
	groups = defaultdict(list)
	for row in movements:
		if row["event"] in MOVEMENTS and row["node"].startswith(("Batch::", "Serial No::")):
			key = (row["posting_datetime"], row["voucher_type"], row["voucher_no"], row["event"],
			       row.get("party_type") or "", row.get("party") or "", row["warehouse"] or "", row.get("company") or "")
			groups[key].append(row)
	events = []
	for (moment, voucher_type, voucher_no, kind, party_type, party, warehouse, company), rows in groups.items():
		action, step, disposition, party_is_destination = MOVEMENTS[kind]
		epcs, quantities = what(ids, [node_unit(row["node"], row["item"], row["qty"]) for row in rows], uoms)
		if kind == "Delivery":
			epcs = sorted(set(epcs) | {ids.package(package) for package in shipped_packages.get(voucher_no, [])})
		time, offset = event_time(moment)
		event = {"type": "ObjectEvent", "eventTime": time, "eventTimeZoneOffset": offset}
		if epcs:
			event["epcList"] = epcs
		if quantities:
			event["quantityList"] = quantities
		event.update({"action": action, "bizStep": cbv("BizStep", step), "disposition": cbv("Disp", disposition)})
		event["readPoint"] = {"id": ids.location(warehouse) or private_uri("company", company)}
		if not party_is_destination:
			event["bizLocation"] = event["readPoint"]
		business = transaction(voucher_type, voucher_no)
		if business:
			event["bizTransactionList"] = [business]
		if party and party_is_destination is not None:
			ours = {"type": cbv("SDT", "owning_party"), "source" if party_is_destination else "destination": ids.party("Company", company)}
			theirs = {"type": cbv("SDT", "owning_party"), "destination" if party_is_destination else "source": ids.party(party_type, party)}
			event["sourceList"] = [ours if party_is_destination else theirs]
			event["destinationList"] = [theirs if party_is_destination else ours]
		events.append(event)
	return events


def transformation_events(ids: Identifiers, edges: list[dict], uoms: dict) -> list[dict]:
	"""One TransformationEvent per document: its input lots and serial numbers (with the quantity consumed) to its
	outputs (with the quantity made). An edge: from, to, from_item, to_item, qty, output_qty, event, voucher_type,
	voucher_no, posting_datetime, work_order, warehouse, row (the consuming row, when known)."""
	groups = defaultdict(list)
	for edge in edges:
		if edge["event"] in TRANSFORMATIONS:
			groups[(edge["posting_datetime"], edge["voucher_type"], edge["voucher_no"], edge["event"])].append(edge)
	events = []
	for (moment, voucher_type, voucher_no, kind), rows in groups.items():
		inputs, outputs = {}, {}
		for edge in rows:
			if not edge["from"].startswith("Work Order::"):
				inputs[(edge["from"], edge.get("row"))] = node_unit(edge["from"], edge["from_item"], edge["qty"])
			if not edge["to"].startswith("Work Order::"):
				outputs[edge["to"]] = node_unit(edge["to"], edge["to_item"], edge["output_qty"])
		time, offset = event_time(moment)
		event = {"type": "TransformationEvent", "eventTime": time, "eventTimeZoneOffset": offset}
		for side, units in (("input", inputs.values()), ("output", outputs.values())):
			epcs, quantities = what(ids, units, uoms)
			if epcs:
				event[f"{side}EPCList"] = epcs
			if quantities:
				event[f"{side}QuantityList"] = quantities
		work_order = next((edge.get("work_order") for edge in rows if edge.get("work_order")), None)
		if work_order:
			event["transformationID"] = private_uri("bt", "Work Order", work_order)
		warehouse = next((edge.get("warehouse") for edge in rows if edge.get("warehouse")), None)
		event.update({"bizStep": cbv("BizStep", TRANSFORMATIONS[kind]), "disposition": cbv("Disp", "active")})
		event["readPoint"] = {"id": ids.location(warehouse) or private_uri("bt", voucher_type, voucher_no)}
		event["bizLocation"] = event["readPoint"]
		event["bizTransactionList"] = [
			business for business in (transaction(voucher_type, voucher_no), work_order and transaction("Work Order", work_order)) if business
		] or [{"type": cbv("BTT", "prodorder"), "bizTransaction": private_uri("bt", voucher_type, voucher_no)}]
		events.append(event)
	return events


def aggregation_events(ids: Identifiers, package_events: list[dict], items: list[dict], packages: dict, uoms: dict) -> list[dict]:
	"""One AggregationEvent per Package Event of packing (ADD) or unpacking (DELETE)."""
	items_of = defaultdict(list)
	for item in items:
		items_of[item["parent"]].append(item)
	events = []
	for package_event in package_events:
		action, step = PACKAGE_EVENTS[package_event["event_type"]]
		children = items_of[package_event["name"]]
		epcs, quantities = what(ids, [{"item": row["item_code"], "serial_no": row["serial_no"], "batch_no": row["batch_no"], "qty": row["qty"]}
		                              for row in children if row["content_type"] != "Package"], uoms)
		epcs = sorted(set(epcs) | {ids.package(packages[row["child_package"]]) for row in children if row["content_type"] == "Package"})
		time, offset = event_time(package_event["event_time"])
		event = {"type": "AggregationEvent", "eventTime": time, "eventTimeZoneOffset": offset,
		         "parentID": ids.package(packages[package_event["package"]])}
		if epcs:
			event["childEPCs"] = epcs
		if quantities:
			event["childQuantityList"] = quantities
		event.update({"action": action, "bizStep": cbv("BizStep", step), "disposition": cbv("Disp", "in_progress")})
		event["readPoint"] = {"id": ids.location(package_event["warehouse"]) or private_uri("company", package_event["company"])}
		event["bizLocation"] = event["readPoint"]
		business = transaction(package_event["reference_doctype"] or "", package_event["reference_name"] or "")
		if business:
			event["bizTransactionList"] = [business]
		events.append(event)
	return events


# Reading MedTrace's records


def trace_link_rows(conditions: str = "", values: dict | None = None) -> tuple[list[dict], list[dict]]:
	"""(movements, edges) of the submitted documents' Trace Links matching the conditions."""
	rows = frappe.db.sql(
		f"""
		select link_type, event, voucher_type, voucher_no, voucher_detail_no, posting_datetime, from_node, from_item,
			from_warehouse, to_node, to_item, to_warehouse, qty, output_qty, party_type, party, company, work_order
		from `tabTrace Link`
		where voided = 0 {conditions}
		order by posting_datetime, voucher_no, name
		""",
		values or {},
		as_dict=True,
	)
	movements, edges = [], []
	for row in rows:
		if row.link_type == "Movement":
			movements.append({"node": row.from_node, "item": row.from_item, "event": row.event, "qty": row.qty,
			                  "warehouse": row.from_warehouse or row.to_warehouse, "voucher_type": row.voucher_type,
			                  "voucher_no": row.voucher_no, "posting_datetime": row.posting_datetime,
			                  "party_type": row.party_type, "party": row.party, "company": row.company})
		else:
			edges.append({"from": row.from_node, "to": row.to_node, "from_item": row.from_item, "to_item": row.to_item,
			              "qty": row.qty, "output_qty": row.output_qty, "event": row.event, "voucher_type": row.voucher_type,
			              "voucher_no": row.voucher_no, "posting_datetime": row.posting_datetime, "work_order": row.work_order,
			              "warehouse": row.to_warehouse or row.from_warehouse, "row": row.voucher_detail_no})
	return movements, edges


def package_history(package_event_names: list[str] | None = None, conditions: str = "", values: dict | None = None):
	"""Package Events of packing and unpacking, their items and the packages they name."""
	filters = "event_type in ('Pack', 'Add', 'Remove', 'Unpack')" + conditions
	if package_event_names is not None:
		if not package_event_names:
			return [], [], {}
		filters += " and name in %(events)s"
		values = {**(values or {}), "events": tuple(package_event_names)}
	package_events = frappe.db.sql(
		f"""select name, package, event_type, event_time, warehouse, company, reference_doctype, reference_name
		from `tabPackage Event` where {filters} order by event_time, creation, name""",
		values or {},
		as_dict=True,
	)
	names = [event.name for event in package_events]
	items = frappe.get_all(
		"Package Event Item", filters={"parent": ("in", names), "parenttype": "Package Event"},
		fields=["parent", "content_type", "item_code", "batch_no", "serial_no", "child_package", "qty"], order_by="idx",
	) if names else []
	return package_events, items, packages_named([e.package for e in package_events] + [i.child_package for i in items if i.child_package])


def packages_named(names) -> dict:
	names = {name for name in names if name}
	return {
		row.name: row
		for row in frappe.get_all(
			"Package", filters={"name": ("in", list(names))},
			fields=["name", "sscc", "package_serial", "udi_device_identifier"],
		)
	} if names else {}


def shipped_packages(voucher_nos) -> dict:
	"""The packages each Delivery Note shipped whole."""
	voucher_nos = list(set(voucher_nos))
	if not voucher_nos:
		return {}
	shipped = frappe.get_all(
		"Package Event",
		filters={"event_type": "Ship", "reference_doctype": "Delivery Note", "reference_name": ("in", voucher_nos)},
		fields=["package", "reference_name"],
	)
	packages = packages_named([row.package for row in shipped])
	result = defaultdict(list)
	for row in shipped:
		result[row.reference_name].append(packages[row.package])
	return result


def stock_uoms(items) -> dict:
	items = list({item for item in items if item})
	return dict(frappe.get_all("Item", filters={"name": ("in", items)}, fields=["name", "stock_uom"], as_list=True)) if items else {}


def build_events(movements: list[dict], edges: list[dict], package_events=None, package_items=None, packages=None) -> list[dict]:
	"""EPCIS events of these records, in time order, each with its eventID."""
	ids = Identifiers()
	uoms = stock_uoms([m["item"] for m in movements] + [e["from_item"] for e in edges] + [e["to_item"] for e in edges]
	                  + [i["item_code"] for i in package_items or []])
	delivered = [m["voucher_no"] for m in movements if m["event"] == "Delivery"]
	events = (
		movement_events(ids, movements, uoms, shipped_packages(delivered))
		+ transformation_events(ids, edges, uoms)
		+ aggregation_events(ids, package_events or [], package_items or [], packages or {}, uoms)
	)
	keys = {id(event): content_key(event) for event in events}
	events.sort(key=lambda event: (event["eventTime"], event["type"], keys[id(event)]))
	assign_event_ids(events, [keys[id(event)] for event in events])
	return events


# eventIDs


def content_key(event: dict) -> str:
	return hashlib.sha256(json.dumps(event, sort_keys=True).encode()).hexdigest()


def event_hash(event: dict) -> str:
	"""The CBV 2.0 event hash of one event, as epcis-event-hash-generator computes it for a whole document.
	Events carry full CBV URIs, so the JSON-LD expansion the package runs on documents changes nothing."""
	from epcis_event_hash_generator import hash_generator, json_to_py
	from epcis_event_hash_generator.json_xml_model_mismatch_correction import deep_structure_correction

	structure = deep_structure_correction(json_to_py._json_to_py(json.loads(json.dumps(event))))
	return hash_generator.epcis_hashes_from_events(("EventList", "", [structure]))[0]


def assign_event_ids(events: list[dict], keys: list[str]) -> None:
	"""eventIDs from the cache by each event's content key, computed (and cached) where missing."""
	cache = frappe.cache
	known = {}
	for start in range(0, len(keys), 5000):
		chunk = keys[start : start + 5000]
		known.update(zip(chunk, cache.hmget(cache.make_key(EVENT_ID_CACHE), chunk), strict=True))
	missing = {}
	for key, event in zip(keys, events, strict=True):
		event_id = known.get(key)
		if event_id is None:
			event_id = missing.get(key) or event_hash(event)
			missing[key] = event_id
		elif isinstance(event_id, bytes):
			event_id = event_id.decode()
		event["eventID"] = event_id
	if missing:
		# Frappe's RedisWrapper.hset pickles one value at a time; the ids are plain text, written together.
		redis.Redis.hset(cache, cache.make_key(EVENT_ID_CACHE), mapping=missing)


def epcis_document(events: list[dict]) -> dict:
	# eventID first, as the standard's examples print it.
	ordered = [{"eventID": event["eventID"], **{k: v for k, v in event.items() if k != "eventID"}} for event in events]
	return {
		"@context": [CONTEXT],
		"type": "EPCISDocument",
		"schemaVersion": "2.0",
		"creationDate": event_time(now_datetime())[0],
		"epcisBody": {"eventList": ordered},
	}


# Export, query and trace download


def all_events(from_datetime=None, to_datetime=None) -> list[dict]:
	"""Every event MedTrace can tell, optionally in a time range (the benchmark exports this)."""
	values = {}
	conditions = posted_between(from_datetime, to_datetime, values)
	movements, edges = trace_link_rows(conditions, values)
	package_conditions = conditions.replace("posting_datetime", "event_time")
	package_events, items, packages = package_history(conditions=package_conditions, values=values)
	return build_events(movements, edges, package_events, items, packages)


def posted_between(from_datetime, to_datetime, values: dict) -> str:
	"""The SQL condition keeping what was posted from from_datetime until before to_datetime; its bounds go into values."""
	condition = ""
	if from_datetime:
		condition += " and posting_datetime >= %(from)s"
		values["from"] = get_datetime(from_datetime)
	if to_datetime:
		condition += " and posting_datetime < %(to)s"
		values["to"] = get_datetime(to_datetime)
	return condition


def check_readers() -> None:
	for doctype in ("Trace Link", "Package Event"):
		if not frappe.has_permission(doctype, "read"):
			frappe.throw(_("You need permission to read {0} to read EPCIS events.").format(_(doctype)), frappe.PermissionError)


def events_of_nodes(nodes: set[str], from_datetime=None, to_datetime=None, also=()) -> list[dict]:
	"""Events naming these lots and serial numbers (node keys), a serial number of these lots, or the
	identifiers in `also`."""
	if not nodes:
		return []
	values = {"nodes": tuple(nodes)}
	period = posted_between(from_datetime, to_datetime, values)
	vouchers = frappe.db.sql(
		f"""select distinct voucher_type, voucher_no from `tabTrace Link` where voided = 0 {period}
		and (from_node in %(nodes)s or to_node in %(nodes)s or from_lot_node in %(nodes)s or to_lot_node in %(nodes)s)""",
		values,
	)
	# By type and number, as the index on them is laid out (by number alone MariaDB reads the whole table);
	# a same-numbered document of another type is dropped with the events about other lots, below.
	movements, edges = trace_link_rows(
		" and voucher_type in %(types)s and voucher_no in %(vouchers)s",
		{"types": tuple({v[0] for v in vouchers}), "vouchers": tuple({v[1] for v in vouchers})},
	) if vouchers else ([], [])
	names = [name.split("::", 1)[1] for name in nodes]
	Item = frappe.qb.DocType("Package Event Item")
	event_names = (
		frappe.qb.from_(Item).select(Item.parent).distinct()
		.where(Item.batch_no.isin(names) | Item.serial_no.isin(names))
		.run(pluck=True)
	)
	period = period.replace("posting_datetime", "event_time")
	package_events, items, packages = package_history(event_names, period, {k: v for k, v in values.items() if k != "nodes"})
	events = build_events(movements, edges, package_events, items, packages)
	wanted = set(also) | node_uris(nodes)
	# A document's event may be about other lots only (what a Manufacture made, beside what it used).
	return [event for event in events if wanted & set(event_uris(event))]


def node_uris(nodes: set[str]) -> set[str]:
	"""The EPCIS identifiers of lots and serial numbers (node keys), a lot's serial numbers included."""
	ids = Identifiers()
	lots = [key.split("::", 1)[1] for key in nodes if key.startswith("Batch::")]
	serials = [key.split("::", 1)[1] for key in nodes if key.startswith("Serial No::")]
	uris = {ids.lot(row.item, row.name) for row in frappe.get_all("Batch", filters={"name": ("in", lots)}, fields=["name", "item"])} if lots else set()
	if serials:
		uris |= {ids.serial(row.item_code, row.name) for row in frappe.get_all("Serial No", filters={"name": ("in", serials)}, fields=["name", "item_code"])}
	if lots:
		# A lot's serial numbers as their movements name them: Serial No has no index on its batch.
		Link = frappe.qb.DocType("Trace Link")
		members = (
			frappe.qb.from_(Link).select(Link.from_node, Link.from_item).distinct()
			.where(Link.from_lot_node.isin([f"Batch::{lot}" for lot in lots]) & (Link.link_type == "Movement") & (Link.voided == 0))
			.run()
		)
		uris |= {ids.serial(item, node.split("::", 1)[1]) for node, item in members}
	return uris


def event_uris(event: dict) -> list[str]:
	"""Every identifier of what an event is about: EPCs, EPC classes and the parent."""
	uris = [*event.get("epcList", []), *event.get("inputEPCList", []), *event.get("outputEPCList", []), *event.get("childEPCs", [])]
	uris += [q["epcClass"] for key in ("quantityList", "inputQuantityList", "outputQuantityList", "childQuantityList") for q in event.get(key, [])]
	return [*uris, event["parentID"]] if event.get("parentID") else uris


def nodes_named(epc: str | None, lot: str | None) -> set[str]:
	"""The lots and serial numbers (node keys) a query names; a package stands for everything inside it."""
	nodes = set()
	if lot:
		if not frappe.db.exists("Batch", lot):
			frappe.throw(_("Lot {0} does not exist.").format(frappe.bold(lot)), frappe.DoesNotExistError)
		nodes.add(f"Batch::{lot}")
	if epc:
		doctype, name = record_of_uri(epc)
		if not doctype:
			frappe.throw(_("{0} names no lot, serial number or package MedTrace knows.").format(frappe.bold(epc)), frappe.DoesNotExistError)
		if doctype == "Package":
			from medtrace.packaging.packing import package_units

			nodes |= {f"Serial No::{u.serial_no}" if u.serial_no else f"Batch::{u.batch_no}" for u in package_units(name)}
		else:
			nodes.add(f"{doctype}::{name}")
	return nodes


def page_token(offset: int, query: dict) -> str:
	return base64.urlsafe_b64encode(json.dumps({"offset": offset, "query": content_key(query)}).encode()).decode()


def offset_of(token: str | None, query: dict) -> int:
	if not token:
		return 0
	try:
		data = json.loads(base64.urlsafe_b64decode(token.encode()))
		if data["query"] == content_key(query) and int(data["offset"]) >= 0:
			return int(data["offset"])
	except (ValueError, KeyError, TypeError):
		pass
	frappe.throw(_("The page token does not belong to this query; start again without it."), title=_("Invalid Page Token"))


@frappe.whitelist(methods=["GET"])
def query_events(
	epc: str | None = None,
	lot: str | None = None,
	event_type: str | None = None,
	biz_step: str | None = None,
	ge_event_time: str | None = None,
	lt_event_time: str | None = None,
	per_page: int = 100,
	next_page_token: str | None = None,
) -> dict:
	"""EPCIS events for an EPC (a serial number, lot class or package, as URI) or a lot, by time range, event type
	and bizStep (a CBV word such as shipping, or its URI), a page at a time: an EPCISQueryDocument, with
	next_page_token while more events match."""
	check_readers()
	if not (epc or lot):
		frappe.throw(_("Name an EPC or a lot to query events for."), title=_("Query Too Wide"))
	per_page = cint(per_page)
	if not 1 <= per_page <= MAX_PAGE_SIZE:
		frappe.throw(_("per_page must be between 1 and {0}.").format(MAX_PAGE_SIZE), title=_("Invalid Page Size"))
	if event_type and event_type not in REQUIRED_FIELDS:
		frappe.throw(_("event_type must be one of {0}.").format(", ".join(REQUIRED_FIELDS)), title=_("Invalid Event Type"))
	times = {}
	for key, value in (("ge", ge_event_time), ("lt", lt_event_time)):
		if value:
			try:
				times[key] = get_datetime(value)
			except Exception:
				frappe.throw(_("{0} is not a date and time.").format(frappe.bold(value)), title=_("Invalid Time"))
	query = {"epc": epc, "lot": lot, "event_type": event_type, "biz_step": biz_step, "ge": ge_event_time, "lt": lt_event_time}
	offset = offset_of(next_page_token, query)
	events = events_of_nodes(nodes_named(epc, lot), times.get("ge"), times.get("lt"), also=[epc] if epc else [])
	step = biz_step and (biz_step if biz_step.startswith("http") else cbv("BizStep", biz_step))
	events = [e for e in events if (not event_type or e["type"] == event_type) and (not step or e.get("bizStep") == step)]
	page = events[offset : offset + per_page]
	document = epcis_document(page)
	document["type"] = "EPCISQueryDocument"
	document["epcisBody"] = {"queryResults": {"queryName": "SimpleEventQuery", "resultsBody": {"eventList": document["epcisBody"]["eventList"]}}}
	if offset + per_page < len(events):
		document["next_page_token"] = page_token(offset + per_page, query)
	return document


def trace_events(result: dict) -> list[dict]:
	"""The events of a trace (medtrace.traceability.engine): its genealogy edges and movements as it shows them."""
	items = {node["node"]: node.get("item") for node in result["nodes"]}
	companies = {}
	movements = []
	for row in result["movements"]:
		company = companies.setdefault(
			(row["voucher_type"], row["voucher_no"]), frappe.db.get_value(row["voucher_type"], row["voucher_no"], "company")
		)
		movements.append({**row, "item": items.get(row["node"]), "company": company})
	edges = [{**edge, "warehouse": None} for edge in result["edges"]]
	nodes = [node["name"] for node in result["nodes"] if node["doctype"] in ("Batch", "Serial No")]
	Item = frappe.qb.DocType("Package Event Item")
	event_names = (
		frappe.qb.from_(Item).select(Item.parent).distinct().where(Item.batch_no.isin(nodes) | Item.serial_no.isin(nodes)).run(pluck=True)
	) if nodes else []
	package_events, package_items, packages = package_history(with_outer_package_events(event_names))
	return build_events(movements, edges, package_events, package_items, packages)


def with_outer_package_events(event_names: list[str]) -> list[str]:
	"""These package events and those packing their packages into others, to any depth (case → pallet): a
	partner following a unit sees the pallet it travelled on."""
	Event, Item = frappe.qb.DocType("Package Event"), frappe.qb.DocType("Package Event Item")
	found, seen_packages, new_events = set(event_names), set(), set(event_names)
	while new_events:
		packages = set(frappe.qb.from_(Event).select(Event.package).distinct().where(Event.name.isin(list(new_events))).run(pluck=True))
		packages -= seen_packages
		seen_packages |= packages
		new_events = set(
			frappe.qb.from_(Item).select(Item.parent).distinct()
			.where((Item.parenttype == "Package Event") & Item.child_package.isin(list(packages) or [""]))
			.run(pluck=True)
		) - found
		found |= new_events
	return sorted(found)


# Reading EPCIS identifiers back


def record_of_uri(uri: str) -> tuple[str | None, str | None]:
	"""The MedTrace record an EPCIS identifier names: ("Serial No" | "Batch" | "Package", name)."""
	if uri.startswith("urn:medtrace:"):
		kind, *parts = [unquote(part) for part in uri.split(":")[2:]]
		doctype = {"serial": "Serial No", "lot": "Batch", "package": "Package"}.get(kind)
		return (doctype, parts[0]) if doctype and parts else (None, None)
	key = gs1_key_of_uri(uri)
	if not key:
		return None, None
	ai, value, qualifier_ai, qualifier = key
	if ai == "00":
		return "Package", frappe.db.get_value("Package", {"sscc": value}, "name")
	return by_gtin(value, qualifier_ai, qualifier)


def gs1_key_of_uri(uri: str) -> tuple[str, str, str | None, str | None] | None:
	"""The GS1 key an EPC URN or a GS1 Digital Link URI holds: ("00", SSCC, None, None), or ("01", GTIN,
	"21", serial number) / ("01", GTIN, "10", lot)."""
	match = re.fullmatch(r"urn:epc:(?:id|class):(sgtin|lgtin|sscc):(\d+)\.(\d+)(?:\.(.+))?", uri)
	if match:
		kind, company, reference, extra = match.groups()
		body = reference[0] + company + reference[1:]
		key = body + str(gs1_standard_check_digit(body))
		if kind == "sscc":
			return "00", key, None, None
		return "01", key, "21" if kind == "sgtin" else "10", unquote(extra or "")
	try:
		elements = {element.ai.ai: element.value for element in GS1DigitalLinkURI.parse(uri).element_strings}
	except Exception:
		return None
	if elements.get("00"):
		return "00", elements["00"], None, None
	for qualifier_ai in ("21", "10"):
		# AI 21 also qualifies other keys (an ITIP, AI 8006); only a GTIN's names a unit or lot.
		if elements.get("01") and elements.get(qualifier_ai):
			return "01", elements["01"], qualifier_ai, elements[qualifier_ai]
	return None


def by_gtin(gtin: str, ai: str, value: str) -> tuple[str | None, str | None]:
	package = ai == "21" and frappe.db.get_value("Package", {"udi_device_identifier": gtin, "package_serial": value}, "name")
	if package:
		return "Package", package
	doctype = "Serial No" if ai == "21" else "Batch"
	return (doctype, value) if frappe.db.exists(doctype, value) else (None, None)


def party_of_uri(uri: str) -> tuple[str | None, str | None]:
	"""The Company, Supplier or Customer an EPCIS party identifier names."""
	if uri.startswith("urn:medtrace:"):
		kind, name = uri.split(":")[2:4]
		return frappe.unscrub(kind), unquote(name)
	match = re.fullmatch(r"urn:epc:id:pgln:(\d+)\.(\d*)", uri) or re.fullmatch(r"https?://[^/]+/417/(\d{13})", uri)
	if not match:
		return None, None
	body = "".join(match.groups())
	gln = body if len(body) == 13 else body + str(gs1_standard_check_digit(body))
	for doctype in ("Customer", "Supplier", "Company"):
		name = frappe.db.get_value(doctype, {"medtrace_gln": gln}, "name")
		if name:
			return doctype, name
	return None, None


def read_epcis_document(document: dict) -> dict:
	"""What an EPCIS document tells MedTrace: the lots, serial numbers and packages it names and the parties."""
	events = document["epcisBody"].get("eventList") or document["epcisBody"].get("queryResults", {}).get("resultsBody", {}).get("eventList", [])
	found = {"Batch": set(), "Serial No": set(), "Package": set(), "parties": set()}
	for event in events:
		for uri in event_uris(event):
			doctype, name = record_of_uri(uri)
			if doctype and name:
				found[doctype].add(name)
		for entry in [*event.get("sourceList", []), *event.get("destinationList", [])]:
			doctype, name = party_of_uri(entry.get("source") or entry.get("destination"))
			if doctype:
				found["parties"].add((doctype, name))
	return found
