"""Genealogy through real ERPNext documents: trace links kept by the vouchers' submit and cancel hooks,
traces at every node compared with the genealogy worked out by hand, a rebuild compared with what the
hooks kept, and the trace API's answers to bad input."""

import copy
import json
from collections import Counter

import frappe
import pytest
from erpnext.buying.doctype.purchase_order.purchase_order import make_subcontracting_order
from erpnext.controllers.subcontracting_controller import make_rm_stock_entry
from erpnext.manufacturing.doctype.work_order.work_order import make_stock_entry as make_work_order_entry
from erpnext.stock.doctype.delivery_note.delivery_note import make_sales_return
from erpnext.stock.doctype.purchase_receipt.purchase_receipt import make_purchase_return
from erpnext.stock.serial_batch_bundle import SerialBatchCreation
from erpnext.subcontracting.doctype.subcontracting_order.subcontracting_order import make_subcontracting_receipt
from frappe.model.document import Document

from factories import make_customer, make_device_identifier, make_item, receive_stock
from medtrace.setup.demo import ensure_inspection_template
from medtrace.traceability.api import get_trace
from medtrace.traceability.engine import trace
from medtrace.traceability.trace_links import LINK_FIELDS, rebuild_trace_links
from offline_seed import TEST_ABBR, TEST_COMPANY
from test_production_udi import released

pytestmark = pytest.mark.requirement("MT-TRC-001")

STORES, WIP, FINISHED = (f"{name} - {TEST_ABBR}" for name in ("Stores", "Work In Progress", "Finished Goods"))


# The scenario, in the order it happens:
#   PR-1 from the supplier: resin lots RA 100 and RB 100; PR-2: tubing lot TT 50. QI on RA.
#   WO1 (sub-assembly, BOM: 2 resin + 1 tubing): transfer RA 12, RB 8, TT 10 to WIP; Manufacture SA1 × 10.
#   Manufacture without a Work Order: RB 20 + TT 10 → SA2 × 10.
#   DEV-1: one row consuming SA1 2 + SA2 2 (a bundle of two lots) → devices D1-D4. QI on D1.
#   DEV-2: SA1 2 → D5, D6; cancelled; its amendment makes D5, D6 from SA2 2 instead.
#   Repack cases: D1 + D2 → K1, D3 + D4 → K2, D5 + D6 → K3.
#   Delivered: K1 to customer A, K2 to B, K3 and 3 spare SA2 to C; C returns 1 SA2.
BACKWARD = {
	"RA": {"RA": 0},
	"RB": {"RB": 0},
	"TT": {"TT": 0},
	"SA1": {"SA1": 0, "RA": 1, "RB": 1, "TT": 1, "WO1": 1},
	"SA2": {"SA2": 0, "RB": 1, "TT": 1},
	"D1": {"D1": 0, "SA1": 1, "SA2": 1, "RA": 2, "RB": 2, "TT": 2, "WO1": 2},
	"D2": {"D2": 0, "SA1": 1, "SA2": 1, "RA": 2, "RB": 2, "TT": 2, "WO1": 2},
	"D3": {"D3": 0, "SA1": 1, "SA2": 1, "RA": 2, "RB": 2, "TT": 2, "WO1": 2},
	"D4": {"D4": 0, "SA1": 1, "SA2": 1, "RA": 2, "RB": 2, "TT": 2, "WO1": 2},
	"D5": {"D5": 0, "SA2": 1, "RB": 2, "TT": 2},
	"D6": {"D6": 0, "SA2": 1, "RB": 2, "TT": 2},
	"K1": {"K1": 0, "D1": 1, "D2": 1, "SA1": 2, "SA2": 2, "RA": 3, "RB": 3, "TT": 3, "WO1": 3},
	"K2": {"K2": 0, "D3": 1, "D4": 1, "SA1": 2, "SA2": 2, "RA": 3, "RB": 3, "TT": 3, "WO1": 3},
	"K3": {"K3": 0, "D5": 1, "D6": 1, "SA2": 2, "RB": 3, "TT": 3},
}
FORWARD = {
	"RA": {"RA": 0, "SA1": 1, "D1": 2, "D2": 2, "D3": 2, "D4": 2, "K1": 3, "K2": 3},
	"RB": {"RB": 0, "SA1": 1, "SA2": 1, "D1": 2, "D2": 2, "D3": 2, "D4": 2, "D5": 2, "D6": 2, "K1": 3, "K2": 3, "K3": 3},
	"TT": {"TT": 0, "SA1": 1, "SA2": 1, "D1": 2, "D2": 2, "D3": 2, "D4": 2, "D5": 2, "D6": 2, "K1": 3, "K2": 3, "K3": 3},
	"SA1": {"SA1": 0, "D1": 1, "D2": 1, "D3": 1, "D4": 1, "K1": 2, "K2": 2},
	"SA2": {"SA2": 0, "D1": 1, "D2": 1, "D3": 1, "D4": 1, "D5": 1, "D6": 1, "K1": 2, "K2": 2, "K3": 2},
	"D1": {"D1": 0, "K1": 1},
	"D2": {"D2": 0, "K1": 1},
	"D3": {"D3": 0, "K2": 1},
	"D4": {"D4": 0, "K2": 1},
	"D5": {"D5": 0, "K3": 1},
	"D6": {"D6": 0, "K3": 1},
	"K1": {"K1": 0},
	"K2": {"K2": 0},
	"K3": {"K3": 0},
}


class Plant:
	"""Builds the scenario through ERPNext's document API and remembers its records by their symbols."""

	def __init__(self):
		self.tag = frappe.generate_hash(length=6).upper()
		self.nodes: dict[str, str] = {}
		self.vouchers: list[tuple[str, str]] = []
		self.docs: dict[str, frappe.Document] = {}

	def name(self, symbol: str) -> str:
		return self.nodes[symbol].partition("::")[2]

	def symbol(self, node: str) -> str:
		return {key: symbol for symbol, key in self.nodes.items()}[node]

	def submitted(self, symbol: str, doc):
		doc.submit()
		self.docs[symbol] = doc
		self.vouchers.append((doc.doctype, doc.name))
		return doc

	def lot(self, symbol: str, item_code: str, **values) -> str:
		batch = frappe.get_doc({"doctype": "Batch", "batch_id": f"{symbol}-{self.tag}", "item": item_code, **values}).insert()
		self.nodes[symbol] = f"Batch::{batch.name}"
		return batch.name

	def serials(self, *symbols: str) -> str:
		for symbol in symbols:
			self.nodes[symbol] = f"Serial No::{symbol}-{self.tag}"
		return "\n".join(self.name(symbol) for symbol in symbols)

	def copy(self) -> "Plant":
		"""The plant for one test: its own symbol tables and freshly loaded documents, so that what a test adds
		to it or cancels (rolled back in the database with the test) is not seen by the next test."""
		plant = copy.copy(self)
		for key, value in vars(self).items():
			if isinstance(value, Document):
				setattr(plant, key, frappe.get_doc(value.doctype, value.name))
			elif isinstance(value, dict | list | set):
				setattr(plant, key, copy.copy(value))
		plant.docs = {symbol: frappe.get_doc(doc.doctype, doc.name) for symbol, doc in self.docs.items()}
		return plant

	def stock_entry(self, symbol: str, purpose: str, rows: list[dict], **header):
		entry = frappe.new_doc("Stock Entry")
		entry.update({"stock_entry_type": purpose, "company": TEST_COMPANY, **header})
		for row in rows:
			entry.append("items", {"use_serial_batch_fields": 1, **row})
		entry.insert()
		return self.submitted(symbol, entry)


def consumed(item_code: str, qty: float, warehouse: str = FINISHED, **identifiers) -> dict:
	return {"item_code": item_code, "qty": qty, "s_warehouse": warehouse, **identifiers}


def made(item_code: str, qty: float, warehouse: str = FINISHED, **identifiers) -> dict:
	return {"item_code": item_code, "qty": qty, "t_warehouse": warehouse, "is_finished_item": 1, **identifiers}


def with_lots(entry, lots: dict[str, list[tuple[str, float]]]):
	"""Replace the rows ERPNext proposed for these items by one row per lot."""
	rows = []
	for row in entry.items:
		for lot, qty in lots.get(row.item_code, [(row.batch_no, row.qty)]):
			values = {k: v for k, v in row.as_dict().items() if k not in ("name", "idx", "serial_and_batch_bundle", "docstatus")}
			rows.append({**values, "qty": qty, "transfer_qty": qty, "batch_no": lot, "use_serial_batch_fields": 1})
	entry.set("items", rows)
	return entry


def make_customer_with_address(plant: Plant, label: str) -> tuple[str, str]:
	customer = make_customer(f"MT Trace Hospital {label} {plant.tag}")
	# Recalls email their notices to it (medtrace/recall/notifications.py).
	frappe.db.set_value("Customer", customer, "email_id", f"recall.{label.lower()}.{plant.tag.lower()}@hospital-test.example")
	address = frappe.get_doc(
		{"doctype": "Address", "address_title": customer, "address_type": "Shipping", "address_line1": f"{label} Renmin Road 1",
		 "city": "Suzhou", "country": "China", "is_shipping_address": 1,
		 "links": [{"link_doctype": "Customer", "link_name": customer}]}
	).insert()
	return customer, address.name


def deliver(plant: Plant, symbol: str, customer: str, address: str, rows: list[dict]):
	note = frappe.new_doc("Delivery Note")
	note.update(
		{"customer": customer, "company": TEST_COMPANY, "currency": "CNY", "conversion_rate": 1,
		 "shipping_address_name": address, "customer_address": address}
	)
	for row in rows:
		note.append("items", {"rate": 100, "warehouse": FINISHED, "use_serial_batch_fields": 1, **row})
	note.insert()
	return plant.submitted(symbol, note)


def inspect(plant: Plant, symbol: str, item_code: str, reference, reading: float, **identifiers):
	template = ensure_inspection_template("MT Trace Dimension Check", "MT Trace Wall Thickness (mm)", 1, 2)
	inspection = frappe.get_doc(
		{"doctype": "Quality Inspection", "inspection_type": "Incoming" if reference.doctype == "Purchase Receipt" else "In Process",
		 "reference_type": reference.doctype, "reference_name": reference.name, "item_code": item_code, "sample_size": 1,
		 "inspected_by": "Administrator", "quality_inspection_template": template, **identifiers}
	)
	inspection.get_item_specification_details()
	inspection.readings[0].reading_1 = str(reading)
	inspection.insert()
	inspection.submit()
	plant.docs[symbol] = inspection
	return inspection


def build_scenario() -> Plant:
	plant = Plant()
	resin = make_item(item_name="Medical PP Resin", has_batch_no=1).name
	tubing = make_item(item_name="PVC Tubing", has_batch_no=1).name
	sub_assembly = make_item(item_name="Drip Chamber Sub-assembly", has_batch_no=1).name
	device = make_item(item_name="Infusion Set", has_serial_no=1).name
	case = make_item(item_name="Infusion Set Case of 2", has_serial_no=1).name
	plant.items = frappe._dict(resin=resin, tubing=tubing, sub_assembly=sub_assembly, device=device, case=case)

	supplier = frappe.get_doc(
		{"doctype": "Supplier", "supplier_name": f"MT Trace Polymers {plant.tag}", "supplier_group": "Raw Material"}
	).insert().name
	plant.supplier = supplier
	for symbol in ("RA", "RB"):
		plant.lot(symbol, resin, supplier=supplier, medtrace_supplier_lot=f"SUP-{symbol}")
	plant.lot("TT", tubing, supplier=supplier, medtrace_supplier_lot="SUP-TT")
	for symbol, rows in (("PR-1", ((resin, "RA", 100), (resin, "RB", 100))), ("PR-2", ((tubing, "TT", 50),))):
		receipt = frappe.new_doc("Purchase Receipt")
		receipt.update({"supplier": supplier, "company": TEST_COMPANY, "currency": "CNY", "conversion_rate": 1})
		for item_code, lot, qty in rows:
			receipt.append(
				"items",
				{"item_code": item_code, "qty": qty, "rate": 2, "warehouse": STORES, "batch_no": plant.name(lot), "use_serial_batch_fields": 1},
			)
		receipt.insert()
		plant.submitted(symbol, receipt)
	# Incoming inspection of a lot already received, as the plant's Stock Settings allow.
	frappe.db.set_single_value("Stock Settings", "allow_to_make_quality_inspection_after_purchase_or_delivery", 1)
	inspect(plant, "QI-RA", resin, plant.docs["PR-1"], 1.5, batch_no=plant.name("RA"))

	boms = {}
	for item_code, components in ((sub_assembly, ((resin, 2), (tubing, 1))), (device, ((sub_assembly, 1),))):
		bom = frappe.get_doc(
			{"doctype": "BOM", "item": item_code, "quantity": 1, "company": TEST_COMPANY,
			 "items": [{"item_code": component, "qty": qty, "rate": 2} for component, qty in components]}
		).insert()
		bom.submit()
		boms[item_code] = bom.name
	plant.boms = boms

	work_order = frappe.get_doc(
		{"doctype": "Work Order", "production_item": sub_assembly, "bom_no": boms[sub_assembly], "qty": 10, "company": TEST_COMPANY,
		 "source_warehouse": STORES, "wip_warehouse": WIP, "fg_warehouse": FINISHED}
	).insert()
	work_order.submit()
	plant.nodes["WO1"] = f"Work Order::{work_order.name}"
	resin_lots = {resin: [(plant.name("RA"), 12), (plant.name("RB"), 8)], tubing: [(plant.name("TT"), 10)]}
	transfer = with_lots(frappe.get_doc(make_work_order_entry(work_order.name, "Material Transfer for Manufacture", 10)), resin_lots)
	transfer.insert()
	plant.submitted("WO1-TRANSFER", transfer)
	plant.lot("SA1", sub_assembly)
	manufacture = with_lots(
		frappe.get_doc(make_work_order_entry(work_order.name, "Manufacture", 10)), {**resin_lots, sub_assembly: [(plant.name("SA1"), 10)]}
	)
	manufacture.insert()
	plant.submitted("WO1-MANUFACTURE", manufacture)

	plant.lot("SA2", sub_assembly)
	bom_header = {"from_bom": 1, "bom_no": boms[sub_assembly], "fg_completed_qty": 10}
	plant.stock_entry(
		"SA2-MANUFACTURE", "Manufacture",
		[consumed(resin, 20, STORES, batch_no=plant.name("RB")), consumed(tubing, 10, STORES, batch_no=plant.name("TT")),
		 made(sub_assembly, 10, batch_no=plant.name("SA2"))],
		**bom_header,
	)

	# One row whose bundle holds two lots of the sub-assembly, as the Desk's batch selector makes it.
	two_lots = SerialBatchCreation(
		{"item_code": sub_assembly, "warehouse": FINISHED, "voucher_type": "Stock Entry", "qty": -4,
		 "type_of_transaction": "Outward", "company": TEST_COMPANY, "do_not_submit": True,
		 "batches": frappe._dict({plant.name("SA1"): 2, plant.name("SA2"): 2})}
	).make_serial_and_batch_bundle()
	device_header = {"from_bom": 1, "bom_no": boms[device]}
	plant.stock_entry(
		"DEV-1", "Manufacture",
		[consumed(sub_assembly, 4, serial_and_batch_bundle=two_lots.name, use_serial_batch_fields=0),
		 made(device, 4, serial_no=plant.serials("D1", "D2", "D3", "D4"))],
		fg_completed_qty=4, **device_header,
	)
	mistaken = plant.stock_entry(
		"DEV-2", "Manufacture",
		[consumed(sub_assembly, 2, batch_no=plant.name("SA1")), made(device, 2, serial_no=plant.serials("D5", "D6"))],
		fg_completed_qty=2, **device_header,
	)
	mistaken.cancel()
	amended = frappe.copy_doc(mistaken)
	amended.amended_from = mistaken.name
	amended.items[0].batch_no = plant.name("SA2")
	for row in amended.items:
		row.serial_and_batch_bundle = None
	amended.insert()
	plant.submitted("DEV-2-AMENDED", amended)
	inspect(plant, "QI-D1", device, plant.docs["DEV-1"], 1.2, item_serial_no=plant.name("D1"))

	for case_symbol, devices in (("K1", ("D1", "D2")), ("K2", ("D3", "D4")), ("K3", ("D5", "D6"))):
		plant.stock_entry(
			f"PACK-{case_symbol}", "Repack",
			[consumed(device, 2, serial_no="\n".join(plant.name(d) for d in devices)), made(case, 1, serial_no=plant.serials(case_symbol))],
		)

	plant.customers = {}
	for label in ("A", "B", "C"):
		plant.customers[label] = make_customer_with_address(plant, label)
	deliver(plant, "DN-A", *plant.customers["A"], [{"item_code": case, "qty": 1, "serial_no": plant.name("K1")}])
	deliver(plant, "DN-B", *plant.customers["B"], [{"item_code": case, "qty": 1, "serial_no": plant.name("K2")}])
	delivery_c = deliver(
		plant, "DN-C", *plant.customers["C"],
		[{"item_code": case, "qty": 1, "serial_no": plant.name("K3")}, {"item_code": sub_assembly, "qty": 3, "batch_no": plant.name("SA2")}],
	)
	sales_return = make_sales_return(delivery_c.name)
	sales_return.set("items", [row for row in sales_return.items if row.item_code == sub_assembly])
	sales_return.items[0].update({"qty": -1, "batch_no": plant.name("SA2"), "use_serial_batch_fields": 1, "serial_and_batch_bundle": None})
	sales_return.insert()
	plant.submitted("DN-C-RETURN", sales_return)
	return plant


def plant_fixtures(build=None):
	"""A test module's `plant` fixture: the scenario (`build`, build_scenario by default) built once for the
	module and committed, as building it takes seconds; each test gets a copy, and its changes roll back
	with the test's transaction. Use as `built_plant, plant = plant_fixtures()`."""

	@pytest.fixture(scope="module")
	def built_plant(test_site):
		frappe.set_user("Administrator")
		plant = (build or build_scenario)()
		frappe.db.commit()
		return plant

	@pytest.fixture
	def plant(built_plant):
		return built_plant.copy()

	return built_plant, plant


built_plant, plant = plant_fixtures()


def depths_by_symbol(plant: Plant, result: dict) -> dict[str, int]:
	return {plant.symbol(node["node"]): node["depth"] for node in result["nodes"]}


def scenario_links(plant: Plant) -> Counter:
	"""Every trace link of the scenario's vouchers, voided ones included, as comparable rows."""
	TraceLink = frappe.qb.DocType("Trace Link")
	rows = (
		frappe.qb.from_(TraceLink)
		.select(*(TraceLink[field] for field in LINK_FIELDS))
		.where(TraceLink.voucher_no.isin([name for _doctype, name in plant.vouchers]))
		.run()
	)
	return Counter(rows)


def rebuilt_links(plant: Plant) -> Counter:
	rebuild_trace_links()
	return scenario_links(plant)


@pytest.mark.requirement("MT-TRC-003", "MT-TRC-004")
def test_traces_at_every_node_give_the_genealogy_worked_out_by_hand(plant):
	for symbol, expected in BACKWARD.items():
		backward = trace(plant.name(symbol), "backward", depth=50)
		assert depths_by_symbol(plant, backward) == expected, f"backward from {symbol}"
		forward = trace(plant.name(symbol), "forward", depth=50)
		assert depths_by_symbol(plant, forward) == FORWARD[symbol], f"forward from {symbol}"
		assert not backward["query"]["truncated"] and not forward["query"]["truncated"]


@pytest.mark.requirement("MT-TRC-003")
def test_an_inspection_naming_no_lot_is_shown_with_the_traces_through_its_voucher(plant):
	"""An inspection of a traced item that names no lot or serial number belongs to the traces passing its
	voucher: the tubing receipt's inspection is in the device's genealogy, another tubing receipt's is not."""
	tubing = plant.items.tubing
	on_the_receipt = inspect(plant, "QI-PR-2", tubing, plant.docs["PR-2"], 1.4)
	other_lot = frappe.get_doc({"doctype": "Batch", "batch_id": f"TT-OTHER-{plant.tag}", "item": tubing}).insert().name
	elsewhere = inspect(plant, "QI-ELSEWHERE", tubing, receive_stock(tubing, 5, batch_no=other_lot, use_serial_batch_fields=1), 1.6)
	try:
		shown = {row["quality_inspection"] for row in trace(plant.name("K1"), "backward", depth=10)["quality_inspections"]}
	finally:
		del plant.docs["QI-PR-2"], plant.docs["QI-ELSEWHERE"]
	assert on_the_receipt.name in shown
	assert elsewhere.name not in shown


@pytest.mark.requirement("MT-TRC-005")
def test_a_trace_stops_at_its_depth_and_says_so(plant):
	result = trace(plant.name("K1"), "backward", depth=2)
	assert depths_by_symbol(plant, result) == {"K1": 0, "D1": 1, "D2": 1, "SA1": 2, "SA2": 2}
	assert result["query"]["truncated"] is True
	assert result["query"]["depth_reached"] == 2
	assert trace(plant.name("K1"), "backward", depth=3)["query"]["truncated"] is False


@pytest.mark.requirement("MT-TRC-003")
def test_backward_trace_reaches_suppliers_inspections_work_orders_and_documents(plant):
	result = trace(plant.name("K1"), "backward", depth=10)
	json.dumps(result)  # serialisable as it is

	(supplier,) = result["suppliers"]
	assert supplier["supplier"] == plant.supplier
	assert supplier["received_qty"] == 250
	assert {(plant.symbol(lot["node"]), lot["supplier_lot"], lot["received_qty"]) for lot in supplier["lots"]} == {
		("RA", "SUP-RA", 100), ("RB", "SUP-RB", 100), ("TT", "SUP-TT", 50)
	}
	assert {receipt["voucher_no"] for receipt in supplier["receipts"]} == {plant.docs["PR-1"].name, plant.docs["PR-2"].name}

	inspections = {row["quality_inspection"]: row for row in result["quality_inspections"]}
	assert set(inspections) == {plant.docs["QI-RA"].name, plant.docs["QI-D1"].name}
	incoming = inspections[plant.docs["QI-RA"].name]
	assert (incoming["status"], incoming["batch_no"], incoming["reference_name"]) == ("Accepted", plant.name("RA"), plant.docs["PR-1"].name)
	assert incoming["readings"][0]["value"] == "1.5"

	work_order = plant.name("WO1")
	(row,) = result["work_orders"]
	assert (row["work_order"], row["bom"], row["outputs"]) == (work_order, plant.boms[plant.items.sub_assembly], [plant.nodes["SA1"]])
	assert {bom["bom"] for bom in result["boms"]} == set(plant.boms.values())

	edges = {(plant.symbol(edge["from"]), plant.symbol(edge["to"])): edge for edge in result["edges"]}
	assert set(edges) == {
		("D1", "K1"), ("D2", "K1"), ("SA1", "D1"), ("SA2", "D1"), ("SA1", "D2"), ("SA2", "D2"),
		("RA", "SA1"), ("RB", "SA1"), ("TT", "SA1"), ("WO1", "SA1"), ("RB", "SA2"), ("TT", "SA2"),
	}
	# Quantity attribution: consumed qty × output qty ÷ the entry's total output.
	assert (edges[("SA1", "D1")]["qty"], edges[("SA1", "D1")]["output_qty"], edges[("SA1", "D1")]["attributed_qty"]) == (2, 1, 0.5)
	assert (edges[("RA", "SA1")]["qty"], edges[("RA", "SA1")]["attributed_qty"]) == (12, 12)
	assert edges[("D1", "K1")]["voucher_no"] == plant.docs["PACK-K1"].name

	timeline = [(row["voucher_type"], row["voucher_no"]) for row in result["timeline"]]
	documents = ["PR-1", "PR-2", "WO1-TRANSFER", "WO1-MANUFACTURE", "SA2-MANUFACTURE", "DEV-1", "PACK-K1", "DN-A"]
	assert [entry for entry in timeline if entry[0] != "Quality Inspection"] == [
		(plant.docs[symbol].doctype, plant.docs[symbol].name) for symbol in documents
	]
	assert [row["posting_datetime"] for row in result["timeline"]] == sorted(row["posting_datetime"] for row in result["timeline"])

	nodes = {plant.symbol(node["node"]): node for node in result["nodes"]}
	assert (nodes["RA"]["item"], nodes["RA"]["qty"], nodes["RA"]["supplier_lot"]) == (plant.items.resin, 100, "SUP-RA")
	assert (nodes["SA1"]["qty"], nodes["SA1"]["in_stock"], nodes["K1"]["qty"], nodes["K1"]["in_stock"]) == (10, 8, 1, 0)


@pytest.mark.requirement("MT-TRC-004")
def test_forward_trace_reaches_customers_net_of_returns(plant):
	result = trace(plant.name("RB"), "forward", depth=10)
	customers = {row["customer"]: row for row in result["customers"]}
	(customer_a, address_a), (customer_b, _), (customer_c, address_c) = (plant.customers[label] for label in "ABC")
	assert set(customers) == {customer_a, customer_b, customer_c}
	assert (customers[customer_a]["delivered_qty"], customers[customer_a]["net_qty"]) == (1, 1)
	assert [address["address"] for address in customers[customer_a]["addresses"]] == [address_a]
	assert "A Renmin Road 1" in customers[customer_a]["addresses"][0]["address_display"]
	c = customers[customer_c]
	assert (c["delivered_qty"], c["returned_qty"], c["net_qty"]) == (4, 1, 3)
	assert {plant.symbol(lot["node"]): (lot["delivered_qty"], lot["returned_qty"], lot["net_qty"]) for lot in c["lots"]} == {
		"K3": (1, 0, 1), "SA2": (3, 1, 2)
	}
	assert {row["voucher_no"] for row in c["deliveries"]} == {plant.docs["DN-C"].name, plant.docs["DN-C-RETURN"].name}
	assert [address["address"] for address in c["addresses"]] == [address_c]

	# What is left in stock: RB after the transfer to WIP and SA2's consumption; SA1 after DEV-1 (DEV-2 was
	# cancelled), SA2 after DEV-1, the amended DEV-2, the spares and their return.
	warehouses = {row["warehouse"]: {plant.symbol(node["node"]): node["qty"] for node in row["nodes"]} for row in result["warehouses"]}
	assert warehouses == {STORES: {"RB": 72}, FINISHED: {"SA1": 8, "SA2": 4}}

	only_c = trace(plant.name("RB"), "forward", depth=10, customer=customer_c)
	assert [row["customer"] for row in only_c["customers"]] == [customer_c]
	assert plant.docs["DN-A"].name not in {row["voucher_no"] for row in only_c["timeline"]}


@pytest.mark.requirement("MT-TRC-005")
def test_filters_by_item_and_date(plant):
	result = trace(plant.name("K1"), "backward", depth=10, item=plant.items.resin)
	assert depths_by_symbol(plant, result) == {"K1": 0, "RA": 3, "RB": 3}
	assert [supplier["supplier"] for supplier in result["suppliers"]] == [plant.supplier]
	assert {plant.symbol(lot["node"]) for lot in result["suppliers"][0]["lots"]} == {"RA", "RB"}

	tomorrow = frappe.utils.add_days(frappe.utils.nowdate(), 1)
	assert depths_by_symbol(plant, trace(plant.name("K1"), "backward", from_date=tomorrow)) == {"K1": 0}
	assert depths_by_symbol(plant, trace(plant.name("K1"), "backward", to_date=frappe.utils.nowdate())) == BACKWARD["K1"]


def test_cancelled_entry_leaves_voided_links_that_no_trace_follows(plant):
	mistaken = plant.docs["DEV-2"]
	links = frappe.get_all(
		"Trace Link", filters={"voucher_type": "Stock Entry", "voucher_no": mistaken.name}, fields=["link_type", "from_node", "to_node", "voided"]
	)
	consumption = {(plant.symbol(row.from_node), plant.symbol(row.to_node)) for row in links if row.link_type == "Consumption"}
	assert consumption == {("SA1", "D5"), ("SA1", "D6")}
	assert all(row.voided for row in links) and len(links) == 2 + 3  # two links, three movements
	assert not {"D5", "D6", "K3"} & set(depths_by_symbol(plant, trace(plant.name("SA1"), "forward")))
	assert "SA1" not in depths_by_symbol(plant, trace(plant.name("D5"), "backward"))


@pytest.mark.requirement("MT-TRC-002")
def test_rebuild_gives_exactly_the_links_the_hooks_kept(plant):
	kept = scenario_links(plant)
	assert kept and any(row[LINK_FIELDS.index("voided")] for row in kept)
	summary = rebuild_trace_links()
	assert summary["links"] >= sum(kept.values())
	assert scenario_links(plant) == kept
	rebuild_trace_links()
	assert scenario_links(plant) == kept


def lot_stock_kept(plant: Plant) -> dict:
	lots = [node for node in plant.nodes.values() if node.startswith("Batch::")]
	rows = frappe.get_all("Trace Node Stock", filters={"node": ("in", lots)}, fields=["node", "warehouse", "balance_qty"])
	return {(plant.symbol(row.node), row.warehouse): row.balance_qty for row in rows if row.balance_qty}


def lot_stock_in_erpnext(plant: Plant) -> dict:
	from erpnext.stock.doctype.batch.batch import get_batch_qty

	return {
		(symbol, row.warehouse): row.qty
		for symbol, node in plant.nodes.items() if node.startswith("Batch::")
		for row in get_batch_qty(batch_no=plant.name(symbol)) if row.qty
	}


@pytest.mark.requirement("MT-TRC-006")
def test_lot_stock_kept_with_the_links_is_erpnexts_own(plant):
	"""Trace Node Stock, kept by the hooks through receipts, production, deliveries, a return and a cancelled
	entry, holds in each warehouse what ERPNext's stock ledger holds; a rebuild keeps it, and the hooks go on
	adding to the rebuilt rows."""
	expected = lot_stock_in_erpnext(plant)
	assert {symbol for symbol, _warehouse in expected} >= {"RB", "SA1", "SA2"}
	assert lot_stock_kept(plant) == expected
	rebuild_trace_links()
	assert lot_stock_kept(plant) == expected
	plant.stock_entry("ISSUE", "Material Issue", [{"item_code": plant.items.resin, "qty": 2, "batch_no": plant.name("RB"), "s_warehouse": STORES}])
	assert lot_stock_kept(plant)[("RB", STORES)] == expected[("RB", STORES)] - 2 == lot_stock_in_erpnext(plant)[("RB", STORES)]
	# The hook added to the row the rebuild wrote, not to a second row of the same lot and warehouse.
	warehouses = frappe.get_all("Trace Node Stock", filters={"node": plant.nodes["RB"]}, pluck="warehouse")
	assert STORES in warehouses and len(warehouses) == len(set(warehouses))


def test_serial_numbers_of_a_batch_are_traced_with_it():
	"""Devices tracked by lot and serial: each serial is a node of its own, and the lot includes them."""
	plant = Plant()
	device = make_item(has_batch_no=1, has_serial_no=1, create_new_batch=1, serial_no_series=f"SB{plant.tag}-.###").name
	case = make_item(has_serial_no=1).name
	receipt = plant.stock_entry("RECEIVE", "Material Receipt", [{"item_code": device, "qty": 3, "t_warehouse": FINISHED, "basic_rate": 10}])
	serials = frappe.get_all("Serial No", filters={"item_code": device}, fields=["name", "batch_no"], order_by="name")
	lot = serials[0].batch_no
	plant.nodes.update({"LOT": f"Batch::{lot}", **{f"S{i}": f"Serial No::{s.name}" for i, s in enumerate(serials, 1)}})
	plant.stock_entry(
		"PACK", "Repack",
		[consumed(device, 2, serial_no=f"{serials[0].name}\n{serials[1].name}", batch_no=lot), made(case, 1, serial_no=plant.serials("K"))],
	)
	customer, address = make_customer_with_address(plant, "S")
	deliver(plant, "DN", customer, address, [{"item_code": device, "qty": 1, "serial_no": serials[2].name, "batch_no": lot}])

	forward = trace(lot, "forward")
	assert depths_by_symbol(plant, forward) == {"LOT": 0, "S1": 0, "S2": 0, "S3": 0, "K": 1}
	assert [(row["customer"], row["net_qty"]) for row in forward["customers"]] == [(customer, 1)]
	assert depths_by_symbol(plant, trace(plant.name("K"), "backward")) == {"K": 0, "S1": 1, "S2": 1}
	assert depths_by_symbol(plant, trace(serials[0].name, "forward")) == {"S1": 0, "K": 1}
	assert receipt.name in {row["voucher_no"] for row in forward["timeline"]}


def test_material_consumed_for_a_work_order_reaches_what_it_makes(plant):
	frappe.db.set_single_value("Manufacturing Settings", "material_consumption", 1)
	items = plant.items
	work_order = frappe.get_doc(
		{"doctype": "Work Order", "production_item": items.sub_assembly, "bom_no": plant.boms[items.sub_assembly], "qty": 5,
		 "company": TEST_COMPANY, "source_warehouse": STORES, "wip_warehouse": WIP, "fg_warehouse": FINISHED, "skip_transfer": 1}
	).insert()
	work_order.submit()
	plant.nodes["WO2"] = f"Work Order::{work_order.name}"
	plant.stock_entry(
		"CONSUME", "Material Consumption for Manufacture",
		[consumed(items.resin, 10, STORES, batch_no=plant.name("RA")), consumed(items.tubing, 5, STORES, batch_no=plant.name("TT"))],
		work_order=work_order.name, from_bom=1, bom_no=plant.boms[items.sub_assembly], fg_completed_qty=5,
	)
	plant.lot("SA3", items.sub_assembly)
	plant.stock_entry(
		"MAKE", "Manufacture", [made(items.sub_assembly, 5, batch_no=plant.name("SA3"))],
		work_order=work_order.name, from_bom=1, bom_no=plant.boms[items.sub_assembly], fg_completed_qty=5,
	)
	assert depths_by_symbol(plant, trace(plant.name("SA3"), "backward")) == {"SA3": 0, "WO2": 1, "RA": 2, "TT": 2}
	forward = depths_by_symbol(plant, trace(plant.name("RA"), "forward"))
	assert (forward["WO2"], forward["SA3"]) == (1, 2)
	assert scenario_links(plant) == rebuilt_links(plant)


def test_movements_of_transfers_issues_reconciliations_and_purchase_returns(plant):
	items = plant.items
	plant.stock_entry(
		"MOVE", "Material Transfer",
		[{"item_code": items.resin, "qty": 5, "s_warehouse": STORES, "t_warehouse": WIP, "batch_no": plant.name("RB")}],
	)
	plant.stock_entry("ISSUE", "Material Issue", [consumed(items.resin, 2, WIP, batch_no=plant.name("RB"))])
	count = frappe.new_doc("Stock Reconciliation")
	count.update({"company": TEST_COMPANY, "purpose": "Stock Reconciliation"})
	count.append("items", {"item_code": items.resin, "warehouse": STORES, "qty": 60, "valuation_rate": 2,
	                       "batch_no": plant.name("RB"), "use_serial_batch_fields": 1})
	count.insert()
	plant.submitted("COUNT", count)
	back_to_supplier = make_purchase_return(plant.docs["PR-2"].name)
	back_to_supplier.items[0].update({"qty": -5, "received_qty": -5, "batch_no": plant.name("TT"), "use_serial_batch_fields": 1, "serial_and_batch_bundle": None})
	back_to_supplier.insert()
	plant.submitted("PR-2-RETURN", back_to_supplier)

	def movements(symbol):
		voucher = plant.docs[symbol]
		return sorted(
			(row.event, row.direction, row.from_warehouse, row.to_warehouse, row.qty, row.party)
			for row in frappe.get_all(
				"Trace Link",
				filters={"voucher_no": voucher.name, "link_type": "Movement"},
				fields=["event", "direction", "from_warehouse", "to_warehouse", "qty", "party"],
			)
		)

	assert movements("MOVE") == [("Transfer", "In", None, WIP, 5, None), ("Transfer", "Out", STORES, None, 5, None)]
	assert movements("ISSUE") == [("Material Issue", "Out", WIP, None, 2, None)]
	# Before the count: 100 received, 8 to WIP, 20 into SA2, 5 moved = 67.
	assert movements("COUNT") == [("Reconciliation", "In", None, STORES, 60, None), ("Reconciliation", "Out", STORES, None, 67, None)]
	assert movements("PR-2-RETURN") == [("Purchase Return", "Out", STORES, None, 5, plant.supplier)]

	result = trace(plant.name("TT"), "backward")
	(supplier,) = result["suppliers"]
	assert (supplier["received_qty"], supplier["returned_qty"]) == (50, 5)
	stores = {row["warehouse"]: row for row in trace(plant.name("RB"), "backward")["warehouses"]}[STORES]
	assert stores["nodes"] == [{"node": plant.nodes["RB"], "qty": 60}]
	assert scenario_links(plant) == rebuilt_links(plant)


def test_subcontractor_made_lots_descend_from_the_lots_supplied_for_them(plant):
	items = plant.items
	coated = make_item(item_name="Coated Tubing", has_batch_no=1, is_sub_contracted_item=1).name
	coating = make_item(item_name="Coating Service", is_stock_item=0).name
	bom = frappe.get_doc(
		{"doctype": "BOM", "item": coated, "quantity": 1, "company": TEST_COMPANY, "items": [{"item_code": items.tubing, "qty": 1, "rate": 2}]}
	).insert()
	bom.submit()
	at_subcontractor = frappe.get_doc(
		{"doctype": "Warehouse", "warehouse_name": f"MT Coater {plant.tag}", "company": TEST_COMPANY,
		 "parent_warehouse": frappe.db.get_value("Warehouse", STORES, "parent_warehouse")}
	).insert().name
	# ERPNext keeps warehouse accounts for the rest of the request, and the test session is one long request.
	frappe.flags.warehouse_account_map = {}
	order = frappe.get_doc(
		{"doctype": "Purchase Order", "supplier": plant.supplier, "company": TEST_COMPANY, "currency": "CNY", "conversion_rate": 1,
		 "is_subcontracted": 1, "supplier_warehouse": at_subcontractor, "schedule_date": frappe.utils.nowdate(),
		 "items": [{"item_code": coating, "qty": 5, "rate": 3, "fg_item": coated, "fg_item_qty": 5, "warehouse": STORES,
		            "schedule_date": frappe.utils.nowdate()}]}
	).insert()
	order.submit()
	subcontracting_order = make_subcontracting_order(order.name)
	subcontracting_order.insert()
	subcontracting_order.submit()
	sent = with_lots(frappe.get_doc(make_rm_stock_entry(subcontracting_order.name)), {items.tubing: [(plant.name("TT"), 5)]})
	sent.insert()
	plant.submitted("SEND", sent)
	plant.lot("CT", coated)
	receipt = make_subcontracting_receipt(subcontracting_order.name)
	receipt.items[0].update({"batch_no": plant.name("CT"), "use_serial_batch_fields": 1})
	receipt.insert()  # ERPNext consumes the lot sent to the subcontractor
	plant.submitted("COATED", receipt)

	assert depths_by_symbol(plant, trace(plant.name("CT"), "backward")) == {"CT": 0, "TT": 1}
	assert depths_by_symbol(plant, trace(plant.name("TT"), "forward"))["CT"] == 1
	sent_links = frappe.get_all(
		"Trace Link", filters={"voucher_no": sent.name}, fields=["event", "direction", "party", "to_warehouse"], order_by="direction"
	)
	assert [(row.event, row.direction, row.party) for row in sent_links] == [
		("Send to Subcontractor", "In", plant.supplier), ("Send to Subcontractor", "Out", plant.supplier)
	]
	assert sent_links[0].to_warehouse == at_subcontractor
	(supplier,) = trace(plant.name("CT"), "backward")["suppliers"]
	assert {(plant.symbol(lot["node"]), lot["received_qty"]) for lot in supplier["lots"]} == {("CT", 5), ("TT", 50)}
	assert scenario_links(plant) == rebuilt_links(plant)


# Bad input


@pytest.fixture
def received_lot():
	item = make_item(has_batch_no=1, create_new_batch=1)
	receive_stock(item.name, 2)
	return frappe.db.get_value("Batch", {"item": item.name})


@pytest.mark.parametrize(
	("arguments", "message"),
	[
		({"depth": 0}, "Depth must be from 1 to 50 levels, not 0"),
		({"depth": 51}, "Depth must be from 1 to 50 levels, not 51"),
		({"depth": "deep"}, "Depth must be a whole number"),
		({"direction": "sideways"}, "Direction must be backward or forward"),
		({"from_date": "2026-02-01", "to_date": "2026-01-01"}, "before it starts"),
		({"from_date": "yesterday"}, "is not a date"),
	],
)
@pytest.mark.requirement("MT-TRC-005")
def test_bad_arguments_are_refused_with_a_message(received_lot, arguments, message):
	with pytest.raises(frappe.ValidationError, match=message):
		get_trace(received_lot, **arguments)


@pytest.mark.requirement("MT-TRC-005")
def test_unknown_and_ambiguous_identifiers_are_refused(received_lot):
	with pytest.raises(frappe.ValidationError, match="No lot or serial number"):
		get_trace(f"NO-SUCH-LOT-{frappe.generate_hash(length=6)}")
	with pytest.raises(frappe.ValidationError, match="Enter or scan"):
		get_trace("  ")
	serialised = make_item(has_serial_no=1).name
	frappe.get_doc({"doctype": "Serial No", "serial_no": received_lot, "item_code": serialised}).insert()
	with pytest.raises(frappe.ValidationError, match="matches several records"):
		get_trace(received_lot)
	di = released(make_device_identifier())
	with pytest.raises(frappe.ValidationError, match="identifies the device type"):
		get_trace(f"(01){di.name}")
	with pytest.raises(frappe.ValidationError, match="No lot or serial number"):
		get_trace(f"(01){di.name}(10)NOLOT{frappe.generate_hash(length=4).upper()}")


@pytest.mark.requirement("MT-TRC-005")
def test_max_depth_comes_from_medtrace_settings(received_lot):
	frappe.db.set_single_value("MedTrace Settings", "max_trace_depth", 3)
	with pytest.raises(frappe.ValidationError, match="from 1 to 3 levels"):
		get_trace(received_lot, depth=4)
	assert get_trace(received_lot, depth=3)["query"]["max_depth"] == 3


@pytest.mark.requirement("MT-PRM-001")
def test_users_without_trace_rights_are_refused(received_lot):
	user = frappe.get_doc(
		{"doctype": "User", "email": f"trace.{frappe.generate_hash(length=6)}@medtrace-test.example", "first_name": "Operator",
		 "send_welcome_email": 0, "roles": [{"role": "MedTrace Production Operator"}]}
	).insert(ignore_permissions=True)
	frappe.set_user(user.name)
	with pytest.raises(frappe.PermissionError, match="not permitted to trace"):
		get_trace(received_lot)
	frappe.set_user("Administrator")
	user.add_roles("MedTrace Quality Engineer")
	frappe.set_user(user.name)
	assert get_trace(received_lot)["query"]["name"] == received_lot


@pytest.mark.requirement("MT-TRC-002")
def test_rebuild_is_for_system_managers_only(received_lot):
	user = frappe.get_doc(
		{"doctype": "User", "email": f"trace.{frappe.generate_hash(length=6)}@medtrace-test.example", "first_name": "Approver",
		 "send_welcome_email": 0, "roles": [{"role": "MedTrace Quality Approver"}]}
	).insert(ignore_permissions=True)
	frappe.set_user(user.name)
	with pytest.raises(frappe.PermissionError):
		rebuild_trace_links()
	frappe.set_user("Administrator")
	assert frappe.db.count("Trace Link", {"voucher_type": "Stock Entry", "from_node": f"Batch::{received_lot}"}) == 1


@pytest.mark.requirement("MT-TRC-005")
def test_rest_endpoint_answers_bad_input_with_417_and_guests_with_403(test_site):
	from frappe.app import application
	from werkzeug.test import Client

	frappe.db.commit()
	client = Client(application)
	headers = {"Host": test_site}
	url = "/api/method/medtrace.traceability.api.get_trace"
	assert client.get(url, query_string={"identifier": "ANY"}, headers=headers).status_code == 403
	login = client.post("/api/method/login", data={"usr": "Administrator", "pwd": "admin"}, headers=headers)
	assert login.status_code == 200
	unknown = client.get(url, query_string={"identifier": f"NO-SUCH-LOT-{frappe.generate_hash(length=6)}"}, headers=headers)
	assert unknown.status_code == 417
	assert "No lot or serial number" in unknown.get_data(as_text=True)
	too_deep = client.get(url, query_string={"identifier": "ANY", "depth": "500"}, headers=headers)
	assert too_deep.status_code == 417
	assert "Depth must be from 1 to" in too_deep.get_data(as_text=True)
	not_a_number = client.get(url, query_string={"identifier": "ANY", "depth": "deep"}, headers=headers)
	assert not_a_number.status_code == 417
	assert "Depth must be a whole number" in not_a_number.get_data(as_text=True)
	sideways = client.get(url, query_string={"identifier": "ANY", "direction": "sideways"}, headers=headers)
	assert sideways.status_code == 417
	assert "Direction must be backward or forward" in sideways.get_data(as_text=True)

