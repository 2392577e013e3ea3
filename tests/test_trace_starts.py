"""Traces that start from a supplier, a supplier's lot number (typed or scanned from the supplier's label) or
a customer, on the plant scenario of test_trace_links with more receipts: the supplier's resin lot SUP-RB
arriving a second time (our lot RB2), a second supplier's lot carrying the number SUP-TT too (TX, received
ten days ago) and a receipt of that supplier cancelled (TY). Every expectation is worked out by hand from
the scenario's comment in test_trace_links."""

import csv
import io

import frappe
import openpyxl
import pytest
from frappe.utils import add_days, nowdate

from factories import make_customer, make_item, unique_gtin
from medtrace.traceability.api import get_trace
from medtrace.traceability.engine import trace
from medtrace.traceability.export import download_trace
from medtrace.traceability.trace_views import customer_devices
from medtrace.traceability.tree import trace_tree
from test_roles import user_with_role  # noqa: F401 (fixture)
from test_trace_links import BACKWARD, FORWARD, STORES, Plant, build_scenario, plant_fixtures

pytestmark = pytest.mark.requirement("MT-TRC-010")

pytestmark = pytest.mark.requirement("MT-TRC-010")


def receive(plant: Plant, symbol: str, supplier: str, rows: list[tuple[str, str, float]], posting_date: str | None = None):
	receipt = frappe.new_doc("Purchase Receipt")
	receipt.update({"supplier": supplier, "company": plant.docs["PR-1"].company, "currency": "CNY", "conversion_rate": 1})
	if posting_date:
		receipt.update({"set_posting_time": 1, "posting_date": posting_date})
	for item_code, lot, qty in rows:
		receipt.append(
			"items",
			{"item_code": item_code, "qty": qty, "rate": 2, "warehouse": STORES, "batch_no": plant.name(lot), "use_serial_batch_fields": 1},
		)
	receipt.insert()
	return plant.submitted(symbol, receipt)


def build_plant_with_suppliers() -> Plant:
	plant = build_scenario()
	# Supplier lot numbers of this plant alone: lots of plants other tests committed must not carry them.
	plant.sup = {symbol: f"SUP-{symbol}-{plant.tag}" for symbol in ("RA", "RB", "TT", "TY")}
	for symbol in ("RA", "RB", "TT"):
		frappe.db.set_value("Batch", plant.name(symbol), "medtrace_supplier_lot", plant.sup[symbol])
	plant.lot("RB2", plant.items.resin, medtrace_supplier_lot=plant.sup["RB"])
	receive(plant, "PR-3", plant.supplier, [(plant.items.resin, "RB2", 40)])

	plant.supplier2 = frappe.get_doc(
		{"doctype": "Supplier", "supplier_name": f"MT Trace Silicones {plant.tag}", "supplier_group": "Raw Material"}
	).insert().name
	plant.items.silicone = make_item(item_name="Silicone Tubing", has_batch_no=1).name
	plant.lot("TX", plant.items.silicone, medtrace_supplier_lot=plant.sup["TT"])
	plant.lot("TY", plant.items.silicone, medtrace_supplier_lot=plant.sup["TY"])
	receive(plant, "PR-4", plant.supplier2, [(plant.items.silicone, "TX", 30)], posting_date=add_days(nowdate(), -10))
	receive(plant, "PR-5", plant.supplier2, [(plant.items.silicone, "TY", 20)]).cancel()
	return plant


built_plant, plant = plant_fixtures(build_plant_with_suppliers)


def depths_by_symbol(plant: Plant, result: dict) -> dict[str, int]:
	return {plant.symbol(node["node"]): node["depth"] for node in result["nodes"]}


def starts_of(plant: Plant, result: dict) -> set[str]:
	return {plant.symbol(node) for node in result["query"]["start"]["nodes"]}


def customer_rows(plant: Plant, result: dict) -> set[tuple]:
	return {
		(customer["customer"], plant.symbol(lot["node"]), lot["delivered_qty"], lot["returned_qty"], lot["net_qty"])
		for customer in result["customers"]
		for lot in customer["lots"]
	}


# From a supplier

# RA, RB and TT came on PR-1 and PR-2, RB2 on PR-3: all of it reaches every sub-assembly, device and case.
SUPPLIER_FORWARD = {
	"RA": 0, "RB": 0, "TT": 0, "RB2": 0, "SA1": 1, "SA2": 1,
	"D1": 2, "D2": 2, "D3": 2, "D4": 2, "D5": 2, "D6": 2, "K1": 3, "K2": 3, "K3": 3,
}


def test_forward_from_a_supplier_reaches_everything_made_from_its_lots_and_the_customers(plant):
	result = trace(plant.supplier, "forward", depth=10, start_type="supplier")
	assert depths_by_symbol(plant, result) == SUPPLIER_FORWARD
	assert starts_of(plant, result) == {"RA", "RB", "TT", "RB2"}
	query = result["query"]
	assert (query["start_type"], query["doctype"], query["name"], query["node"]) == (
		"supplier", "Supplier", plant.supplier, f"Supplier::{plant.supplier}"
	)
	assert {(plant.symbol(row["node"]), row["received_qty"], row["supplier"]) for row in query["start"]["candidates"]} == {
		("RA", 100, plant.supplier), ("RB", 100, plant.supplier), ("TT", 50, plant.supplier), ("RB2", 40, plant.supplier)
	}
	(a, _), (b, _), (c, _) = (plant.customers[label] for label in "ABC")
	assert customer_rows(plant, result) == {(a, "K1", 1, 0, 1), (b, "K2", 1, 0, 1), (c, "K3", 1, 0, 1), (c, "SA2", 3, 1, 2)}
	# The tree hangs the supplier's lots under the supplier.
	tree = trace_tree(result)
	assert (tree[0]["node"]["node"], tree[0]["indent"]) == (query["node"], 0)
	assert {plant.symbol(row["node"]["node"]) for row in tree if row["indent"] == 1} == {"RA", "RB", "TT", "RB2"}
	assert {plant.symbol(row["node"]["node"]) for row in tree[1:] if not row["shown_elsewhere"]} == set(SUPPLIER_FORWARD)


def test_a_supplier_start_chooses_receipts_by_item_and_date(plant):
	tubing = trace(plant.supplier, "forward", depth=10, start_type="supplier", supplied_item=plant.items.tubing)
	assert depths_by_symbol(plant, tubing) == FORWARD["TT"]
	today = trace(plant.supplier, "forward", depth=10, start_type="supplier", received_from=nowdate(), received_to=nowdate())
	assert starts_of(plant, today) == {"RA", "RB", "TT", "RB2"}
	with pytest.raises(frappe.ValidationError, match="No lot or serial number was received from supplier"):
		trace(plant.supplier, "forward", start_type="supplier", received_to=add_days(nowdate(), -1))
	# The second supplier: TX ten days ago; TY's receipt was cancelled, so TY is none of its lots.
	second = trace(plant.supplier2, "forward", start_type="supplier")
	assert depths_by_symbol(plant, second) == {"TX": 0}
	assert second["query"]["start"]["candidates"][0]["first_received"].startswith(add_days(nowdate(), -10))
	assert starts_of(plant, trace(plant.supplier2, "forward", start_type="supplier", received_from=add_days(nowdate(), -10),
	                              received_to=add_days(nowdate(), -10))) == {"TX"}


def test_a_supplier_start_costs_the_queries_of_a_single_lot(plant, monkeypatch):
	"""One query per level for all of a supplier's lots together, and one to find them: never one per lot."""
	statements = []
	run = frappe.db.sql

	def counted(query, *args, **kwargs):
		if "`tabTrace Link`" in str(query):
			statements.append(query)
		return run(query, *args, **kwargs)

	monkeypatch.setattr(frappe.db, "sql", counted)
	trace(plant.name("RB"), "forward", depth=10)
	single = len(statements)
	statements.clear()
	trace(plant.supplier, "forward", depth=10, start_type="supplier")
	assert len(statements) <= single + 1


# From a supplier's lot number


def test_a_supplier_lot_traces_every_lot_carrying_it_and_nothing_from_a_cancelled_entry(plant):
	# SA1 went into D5 and D6 on DEV-2, which was cancelled and amended to use SA2.
	result = trace(plant.sup["RA"], "forward", depth=10, start_type="supplier_lot")
	assert depths_by_symbol(plant, result) == FORWARD["RA"]
	assert (result["query"]["doctype"], result["query"]["name"], result["query"]["start"]["ambiguous"]) == ("Supplier Lot", plant.sup["RA"], False)

	# The same supplier lot arrived twice: two of our lots, both traced, not ambiguous.
	twice = trace(plant.sup["RB"], "forward", depth=10, start_type="supplier_lot")
	assert depths_by_symbol(plant, twice) == {**FORWARD["RB"], "RB2": 0}
	assert twice["query"]["start"]["ambiguous"] is False
	assert {(plant.symbol(row["node"]), row["supplier_lot"], row["receipts"][0]) for row in twice["query"]["start"]["candidates"]} == {
		("RB", plant.sup["RB"], plant.docs["PR-1"].name), ("RB2", plant.sup["RB"], plant.docs["PR-3"].name)
	}
	only_later = trace(plant.sup["RB"], "forward", start_type="supplier_lot", supplier=plant.supplier, supplied_item=plant.items.resin,
	                   received_from=nowdate())
	assert starts_of(plant, only_later) == {"RB", "RB2"}


def test_a_supplier_lot_shared_by_two_suppliers_is_traced_whole_and_said_to_be_ambiguous(plant):
	result = trace(plant.sup["TT"], "forward", depth=10, start_type="supplier_lot")
	assert result["query"]["start"]["ambiguous"] is True
	assert "more than one supplier" in result["query"]["start"]["message"]
	assert {(plant.symbol(row["node"]), row["supplier"], row["item"]) for row in result["query"]["start"]["candidates"]} == {
		("TT", plant.supplier, plant.items.tubing), ("TX", plant.supplier2, plant.items.silicone)
	}
	assert depths_by_symbol(plant, result) == {**FORWARD["TT"], "TX": 0}

	narrowed = trace(plant.sup["TT"], "forward", start_type="supplier_lot", supplier=plant.supplier2)
	assert (depths_by_symbol(plant, narrowed), narrowed["query"]["start"]["ambiguous"]) == ({"TX": 0}, False)
	with pytest.raises(frappe.ValidationError, match="None of our lots carries the supplier lot number"):
		trace(plant.sup["TY"], "forward", start_type="supplier_lot")  # its only receipt was cancelled


def test_a_scanned_supplier_label_resolves_to_its_supplier_lot(plant):
	gtin = unique_gtin()
	resin = frappe.get_doc("Item", plant.items.resin)
	# Kept as the 13 digits printed under the supplier's barcode: the scan's GTIN-14 has a leading zero more.
	resin.append("barcodes", {"barcode": gtin[1:]})
	resin.save()
	for label in (f"(01){gtin}(17)291231(10){plant.sup['RB']}", f"]d201{gtin}17291231" + "10" + plant.sup["RB"]):
		assert starts_of(plant, trace(label, "forward", start_type="supplier_lot")) == {"RB", "RB2"}, label
	# The label's GTIN is tubing's now: no tubing lot carries SUP-RB.
	frappe.db.set_value("Item Barcode", {"parent": plant.items.resin, "barcode": gtin[1:]}, "parent", plant.items.tubing)
	with pytest.raises(frappe.ValidationError, match="None of our lots carries the supplier lot number"):
		trace(f"(01){gtin}(10){plant.sup['RB']}", "forward", start_type="supplier_lot")
	# A GTIN that is no barcode of ours narrows nothing.
	assert starts_of(plant, trace(f"(01){unique_gtin()}(10){plant.sup['RA']}", "forward", start_type="supplier_lot")) == {"RA"}
	with pytest.raises(frappe.ValidationError, match="carries no lot number"):
		trace(f"(01){gtin}(17)291231", "forward", start_type="supplier_lot")


# From a customer


@pytest.mark.requirement("MT-TRC-011")
def test_backward_from_a_customer_reaches_what_it_received_and_everything_upstream(plant):
	customer_c = plant.customers["C"][0]
	result = trace(customer_c, "backward", depth=10, start_type="customer")
	# C holds K3 (D5, D6 made of SA2 on the amended DEV-2: SA1 of the cancelled one is not upstream) and 2 of
	# the 3 spare SA2 it received.
	assert depths_by_symbol(plant, result) == {"K3": 0, "SA2": 0, "D5": 1, "D6": 1, "RB": 1, "TT": 1}
	assert customer_rows(plant, result) == {(customer_c, "K3", 1, 0, 1), (customer_c, "SA2", 3, 1, 2)}
	(supplier,) = result["suppliers"]
	assert {(plant.symbol(lot["node"]), lot["supplier_lot"]) for lot in supplier["lots"]} == {("RB", plant.sup["RB"]), ("TT", plant.sup["TT"])}
	assert {row["voucher_no"] for row in result["customers"][0]["deliveries"]} == {plant.docs["DN-C"].name, plant.docs["DN-C-RETURN"].name}

	devices = {row["name"]: row for row in customer_devices(result)}
	assert set(devices) == {plant.name("K3"), plant.name("SA2")}
	case, spares = devices[plant.name("K3")], devices[plant.name("SA2")]
	assert (case["serial_no"], case["return_status"], case["net_qty"]) == (plant.name("K3"), "Still Held", 1)
	assert set(case["contains"]) == {plant.name(symbol) for symbol in ("D5", "D6", "SA2", "RB", "TT")}
	assert set(case["supplier_lots"]) == {f"{plant.sup['RB']} ({plant.supplier})", f"{plant.sup['TT']} ({plant.supplier})"}
	assert (spares["lot"], spares["return_status"], spares["delivered_qty"], spares["returned_qty"]) == (plant.name("SA2"), "Partly Returned", 3, 1)
	assert set(spares["contains"]) == {plant.name("RB"), plant.name("TT")}
	assert list(spares["documents"]) == [plant.docs["DN-C"].name, plant.docs["DN-C-RETURN"].name]

	# A's trace is K1's, and shows none of C's deliveries.
	customer_a = plant.customers["A"][0]
	only_a = trace(customer_a, "backward", depth=10, start_type="customer")
	assert depths_by_symbol(plant, only_a) == BACKWARD["K1"]
	assert {row["customer"] for row in only_a["customers"]} == {customer_a}


# Bad input, permissions, REST and downloads


@pytest.mark.parametrize(
	("arguments", "message"),
	[
		({"start_type": "warehouse"}, "Start a trace from a lot, serial number or UDI, a supplier"),
		({"start_type": "supplier", "identifier": "No Such Supplier"}, "Supplier <strong>No Such Supplier</strong> does not exist"),
		({"start_type": "customer", "identifier": "No Such Hospital"}, "Customer <strong>No Such Hospital</strong> does not exist"),
		({"start_type": "supplier_lot", "identifier": " "}, "Enter or scan the supplier's lot number"),
		({"start_type": "supplier_lot", "identifier": "SUP-RA", "supplier": "No Such Supplier"}, "does not exist"),
		({"start_type": "supplier_lot", "identifier": "SUP-RA", "received_from": "2026-02-01", "received_to": "2026-01-01"},
		 "receipt date range ends on"),
		({"start_type": "supplier_lot", "identifier": "SUP-RA", "received_from": "soon"}, "is not a date"),
		({"start_type": "customer", "identifier": "<img src=x onerror=alert(1)>"}, "&lt;img src=x"),
	],
)
def test_bad_starts_are_refused_with_a_message(plant, arguments, message):
	arguments = {"identifier": plant.supplier, **arguments}
	with pytest.raises(frappe.ValidationError, match=message):
		get_trace(arguments.pop("identifier"), direction="forward", **arguments)


def test_a_supplier_given_as_a_list_is_refused_by_the_engine(plant):
	# Over HTTP, Frappe refuses a list for a text argument before the call (see the REST test below); code
	# calling the engine directly gets the engine's own refusal.
	with pytest.raises(frappe.ValidationError, match="is not a supplier"):
		trace("SUP-RA", "forward", start_type="supplier_lot", supplier=["A", "B"])


def test_a_customer_that_received_nothing_is_refused(plant):
	with pytest.raises(frappe.ValidationError, match="No lot or serial number was delivered to customer"):
		get_trace(make_customer(), start_type="customer")


def test_users_who_may_not_read_the_party_are_refused(plant, user_with_role):
	from factories import acting_as
	from medtrace.setup.permissions import QUALITY_ENGINEER

	engineer = user_with_role(QUALITY_ENGINEER)
	with acting_as(engineer):
		assert get_trace(plant.customers["C"][0], start_type="customer")["query"]["name"] == plant.customers["C"][0]
	rule = {"parent": "Customer", "role": QUALITY_ENGINEER, "permlevel": 0}
	frappe.db.set_value("Custom DocPerm", rule, "read", 0)
	frappe.clear_cache(doctype="Customer")
	try:
		with acting_as(engineer), pytest.raises(frappe.PermissionError, match="not permitted to trace from a Customer"):
			get_trace(plant.customers["C"][0], start_type="customer")
	finally:
		# Permissions are cached beyond the test's rolled-back transaction.
		frappe.db.set_value("Custom DocPerm", rule, "read", 1)
		frappe.clear_cache(doctype="Customer")


def test_rest_answers_bad_starts_with_417(test_site):
	from frappe.app import application
	from werkzeug.test import Client

	frappe.db.commit()
	client = Client(application)
	headers = {"Host": test_site}
	url = "/api/method/medtrace.traceability.api.get_trace"
	arguments = {"identifier": "No Such Supplier", "start_type": "supplier", "direction": "forward"}
	assert client.get(url, query_string=arguments, headers=headers).status_code == 403
	assert client.post("/api/method/login", data={"usr": "Administrator", "pwd": "admin"}, headers=headers).status_code == 200
	unknown = client.get(url, query_string=arguments, headers=headers)
	assert unknown.status_code == 417 and "does not exist" in unknown.get_data(as_text=True)
	sideways = client.get(url, query_string={**arguments, "start_type": "sideways"}, headers=headers)
	assert sideways.status_code == 417
	listed = client.post(
		url, json={**arguments, "start_type": "supplier_lot", "identifier": "SUP-RA", "supplier": ["A", "B"]}, headers=headers
	)
	assert listed.status_code == 417 and "supplier" in listed.get_data(as_text=True)


def downloaded(identifier: str, file_format: str, **arguments) -> bytes:
	frappe.local.response = frappe._dict()
	download_trace(identifier, file_format, **arguments)
	return frappe.local.response.filecontent


@pytest.mark.requirement("MT-TRC-011")
@pytest.mark.requirement("MT-TRC-011")
def test_downloads_hold_the_start_and_a_customers_devices(plant):
	customer_c = plant.customers["C"][0]
	workbook = openpyxl.load_workbook(io.BytesIO(downloaded(customer_c, "xlsx", start_type="customer")))
	assert workbook.sheetnames[:3] == ["Trace", "Customer Devices", "Genealogy"]
	header, *rows = workbook["Customer Devices"].iter_rows(values_only=True)
	devices = {row[header.index("Lot / Serial No")]: dict(zip(header, row, strict=True)) for row in rows}
	assert set(devices) == {plant.name("K3"), plant.name("SA2")}
	assert devices[plant.name("SA2")]["Return Status"] == "Partly Returned"
	assert devices[plant.name("SA2")]["Net Qty"] == 2

	text = downloaded(plant.sup["TT"], "csv", start_type="supplier_lot", direction="forward").decode("utf-8-sig")
	sections, title = {}, None
	for row in csv.reader(io.StringIO(text)):
		if row and row[0].startswith("# "):
			title = row[0][2:]
			sections[title] = []
		elif row:
			sections[title].append(row)
	summary = dict(sections["Trace"][1:])
	assert summary["Starts From"] == plant.sup["TT"] and "more than one supplier" in summary["Ambiguous"]
	header, *starting = sections["Starting Lots and Serial Nos"]
	assert {(row[0], row[header.index("Supplier")]) for row in starting} == {
		(plant.name("TT"), plant.supplier), (plant.name("TX"), plant.supplier2)
	}
