"""The Trace Explorer and the traceability reports on the plant scenario of test_trace_links (genealogy
worked out by hand there): each download holds exactly what the trace holds, each report gives the rows
worked out by hand, bad input and users without the right to trace are refused with a message, and the
page answers over HTTP."""

import csv
import io
import json

import frappe
import openpyxl
import pytest
from frappe.desk.query_report import run as run_report
from medtrace.setup.permissions import PRODUCTION_OPERATOR, QUALITY_ENGINEER
from medtrace.traceability.engine import trace
from medtrace.traceability.export import download_trace
from medtrace.traceability.report.batch_genealogy.batch_genealogy import (
	execute as batch_genealogy,
)
from medtrace.traceability.report.customer_exposure.customer_exposure import (
	execute as customer_exposure,
)
from medtrace.traceability.report.serial_history.serial_history import (
	execute as serial_history,
)
from medtrace.traceability.report.where_used.where_used import execute as where_used
from medtrace.traceability.tree import trace_tree
from pypdf import PdfReader
from test_trace_links import FINISHED, plant_fixtures

pytestmark = pytest.mark.requirement("MT-TRC-007")

REPORTS = ("Batch Genealogy", "Where-Used", "Customer Exposure", "Serial History")


built_plant, plant = plant_fixtures()


def downloaded(identifier: str, file_format: str, **arguments) -> bytes:
	frappe.local.response = frappe._dict()
	download_trace(identifier, file_format, **arguments)
	response = frappe.local.response
	assert response.type == "download"
	assert response.filename.endswith(f".{file_format}")
	return response.filecontent


def names(plant, *symbols: str) -> set[str]:
	return {plant.name(symbol) for symbol in symbols}


def expected_customers(plant) -> set[tuple]:
	"""Forward from RB, worked out by hand: (customer, lot or serial, delivered, returned, net)."""
	(a, _address_a), (b, _address_b), (c, _address_c) = (plant.customers[label] for label in "ABC")
	return {
		(a, plant.name("K1"), 1, 0, 1),
		(b, plant.name("K2"), 1, 0, 1),
		(c, plant.name("K3"), 1, 0, 1),
		(c, plant.name("SA2"), 3, 1, 2),
	}


# Downloads


def test_xlsx_holds_every_table_of_the_trace(plant):
	result = trace(plant.name("RB"), "forward")
	workbook = openpyxl.load_workbook(io.BytesIO(downloaded(plant.name("RB"), "xlsx", direction="forward")))
	assert workbook.sheetnames == [
		"Trace", "Genealogy", "Lots and Serial Nos", "Links", "Documents", "Movements", "Suppliers", "Quality Inspections",
		"Customers", "Warehouses", "Work Orders", "BOMs",
	]

	def rows(sheet: str) -> list[dict]:
		header, *values = workbook[sheet].iter_rows(values_only=True)
		return [dict(zip(header, row, strict=True)) for row in values]

	assert {row["Lot / Serial No"] for row in rows("Lots and Serial Nos")} == {node["name"] for node in result["nodes"]}
	assert len(rows("Lots and Serial Nos")) == len(result["nodes"])
	assert names(plant, "RB", "SA1", "SA2", "D1", "D2", "D3", "D4", "D5", "D6", "K1", "K2", "K3") == {
		node["name"] for node in result["nodes"]
	}
	customers = {
		(row["Customer"], row["Lot / Serial No"], row["Delivered Qty"], row["Returned Qty"], row["Net Qty"])
		for row in rows("Customers")
	}
	assert customers == expected_customers(plant)
	c_spares = next(row for row in rows("Customers") if row["Lot / Serial No"] == plant.name("SA2"))
	assert c_spares["Delivery Notes and Returns"] == f"{plant.docs['DN-C'].name}, {plant.docs['DN-C-RETURN'].name}"
	assert "C Renmin Road 1" in c_spares["Shipping Address"]
	assert [row["Document"] for row in rows("Documents")] == [row["voucher_no"] for row in result["timeline"]]
	genealogy = rows("Genealogy")
	assert [row["Lot / Serial No"].strip() for row in genealogy] == [row["node"]["name"] for row in trace_tree(result)]
	summary = {row["Parameter"]: row["Value"] for row in rows("Trace")}
	assert (summary["Identifier"], summary["Traced By"]) == (plant.name("RB"), "Administrator (Administrator)")


def test_csv_holds_the_same_tables(plant):
	result = trace(plant.name("K1"), "backward")
	text = downloaded(plant.name("K1"), "csv").decode("utf-8-sig")
	sections, title = {}, None
	for row in csv.reader(io.StringIO(text)):
		if row and row[0].startswith("# "):
			title = row[0][2:]
			sections[title] = []
		elif row:
			sections[title].append(row)

	def rows(title: str) -> list[dict]:
		header, *values = sections[title]
		return [dict(zip(header, row, strict=True)) for row in values]

	assert list(sections) == [
		"Trace", "Genealogy", "Lots and Serial Nos", "Links", "Documents", "Movements", "Suppliers", "Quality Inspections",
		"Customers", "Warehouses", "Work Orders", "BOMs",
	]
	assert sorted(row["Lot / Serial No"] for row in rows("Lots and Serial Nos")) == sorted(
		node["name"] for node in result["nodes"]
	)
	assert {row["Lot / Serial No"] for row in rows("Lots and Serial Nos")} == names(
		plant, "K1", "D1", "D2", "SA1", "SA2", "RA", "RB", "TT", "WO1"
	)
	assert {(row["Lot / Serial No"], row["Supplier Lot"], float(row["Received Qty"])) for row in rows("Suppliers")} == {
		(plant.name("RA"), "SUP-RA", 100), (plant.name("RB"), "SUP-RB", 100), (plant.name("TT"), "SUP-TT", 50)
	}
	assert {row["Quality Inspection"] for row in rows("Quality Inspections")} == {
		plant.docs["QI-RA"].name, plant.docs["QI-D1"].name
	}
	assert [(row["Customer"], row["Lot / Serial No"], float(row["Net Qty"])) for row in rows("Customers")] == [
		(plant.customers["A"][0], plant.name("K1"), 1)
	]
	assert len(rows("Links")) == len(result["edges"]) == 12


def pdf_text(pdf: bytes) -> str:
	return " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).split())


def test_pdf_evidence_report_names_the_query_the_tracer_and_exactly_the_traced_nodes(plant, web_server):
	text = pdf_text(downloaded(plant.name("RB"), "pdf", direction="forward", depth=5))
	for expected in (
		"Trace Evidence Report", plant.name("RB"), "Forward: where it went", "Traced by Administrator", "Genealogy",
		"Documents", "Suppliers", "Customers", f"Trace {plant.name('RB')} - 1 /", plant.docs["DN-C-RETURN"].name,
	):
		assert expected in text, expected
	for symbol in ("RB", "SA1", "SA2", "D1", "D2", "D3", "D4", "D5", "D6", "K1", "K2", "K3"):
		assert plant.name(symbol) in text, symbol
	for symbol in ("RA", "TT"):
		assert plant.name(symbol) not in text, symbol
	for label in "ABC":
		assert plant.customers[label][0] in text, label


# Reports


def report_rows(execute, **filters) -> list[dict]:
	columns, rows = execute(frappe._dict(filters))
	fieldnames = {column["fieldname"] for column in columns}
	assert all(set(row) - {"indent"} <= fieldnames for row in rows)
	return rows


@pytest.mark.requirement("MT-TRC-008")
def test_batch_genealogy_is_the_lots_tree_both_ways(plant):
	rows = report_rows(batch_genealogy, batch=plant.name("SA1"))
	wo1 = plant.name("WO1")
	assert [(row["relation"], row["name"], row["indent"], row["shown_elsewhere"]) for row in rows] == [
		("Traced Lot", plant.name("SA1"), 0, 0),
		("Made From", plant.name("RA"), 1, 0),
		("Made From", plant.name("RB"), 1, 0),
		("Made From", plant.name("TT"), 1, 0),
		("Made From", wo1, 1, 0),
		("Used In", plant.name("D1"), 1, 0),
		("Used In", plant.name("K1"), 2, 0),
		("Used In", plant.name("D2"), 1, 0),
		("Used In", plant.name("K1"), 2, 1),
		("Used In", plant.name("D3"), 1, 0),
		("Used In", plant.name("K2"), 2, 0),
		("Used In", plant.name("D4"), 1, 0),
		("Used In", plant.name("K2"), 2, 1),
	]
	by_name = {(row["relation"], row["name"]): row for row in rows}
	assert (by_name[("Made From", plant.name("RA"))]["attributed_qty"], by_name[("Made From", wo1)]["node_doctype"]) == (12, "Work Order")
	assert by_name[("Used In", plant.name("D1"))]["attributed_qty"] == 0.5
	assert by_name[("Used In", plant.name("D1"))]["voucher_no"] == plant.docs["DEV-1"].name
	assert by_name[("Traced Lot", plant.name("SA1"))]["in_stock"] == 8


@pytest.mark.requirement("MT-TRC-008")
def test_where_used_carries_the_components_quantity_into_every_product(plant):
	rows = report_rows(where_used, batch=plant.name("RB"))
	# RB: 8 into SA1 (10 made: 0.8 each), 20 into SA2 (10 made: 2 each); a device holds half a unit of each
	# sub-assembly lot it was made from; a case holds two devices.
	expected = {
		"SA1": (1, 8, 0), "SA2": (1, 20, 0), "D1": (2, 1.4, 0), "D2": (2, 1.4, 0), "D3": (2, 1.4, 0), "D4": (2, 1.4, 0),
		"D5": (2, 2, 0), "D6": (2, 2, 0), "K1": (3, 2.8, 1), "K2": (3, 2.8, 1), "K3": (3, 4, 1),
	}
	assert {plant.symbol(f"{row['node_doctype']}::{row['name']}"): (row["depth"], row["component_qty"], row["end_product"]) for row in rows} == expected
	assert {row["component_uom"] for row in rows} == {"Nos"}

	ends = report_rows(where_used, batch=plant.name("RA"), end_products_only=1)
	assert {(row["name"], row["component_qty"]) for row in ends} == {(plant.name("K1"), 1.2), (plant.name("K2"), 1.2)}
	devices = report_rows(where_used, batch=plant.name("RA"), item=plant.items.device)
	assert {(row["name"], row["component_qty"]) for row in devices} == {(plant.name(d), 0.6) for d in ("D1", "D2", "D3", "D4")}


@pytest.mark.requirement("MT-TRC-008")
def test_customer_exposure_lists_deliveries_net_of_returns(plant):
	rows = report_rows(customer_exposure, batch=plant.name("RB"))
	assert {(row["customer"], row["name"], row["delivered_qty"], row["returned_qty"], row["net_qty"]) for row in rows} == (
		expected_customers(plant)
	)
	spares = next(row for row in rows if row["name"] == plant.name("SA2"))
	assert spares["documents"] == f"{plant.docs['DN-C'].name}, {plant.docs['DN-C-RETURN'].name}"
	assert "C Renmin Road 1, Suzhou" in spares["address"]

	customer_c = plant.customers["C"][0]
	only_c = report_rows(customer_exposure, batch=plant.name("RB"), customer=customer_c)
	assert {(row["customer"], row["name"]) for row in only_c} == {(customer_c, plant.name("K3")), (customer_c, plant.name("SA2"))}
	assert report_rows(customer_exposure, batch=plant.name("RA")) == [
		row for row in rows if row["name"] in names(plant, "K1", "K2")
	]


@pytest.mark.requirement("MT-TRC-008")
def test_serial_history_is_a_serials_life_in_time_order(plant):
	device = report_rows(serial_history, serial_no=plant.name("D1"))
	assert [(row["event"], row["direction"], row["voucher_no"], row["warehouse"], row["related"]) for row in device] == [
		("Production", "In", plant.docs["DEV-1"].name, FINISHED, f"{plant.name('SA1')}, {plant.name('SA2')}"),
		("In Process", None, plant.docs["QI-D1"].name, None, ""),
		("Consumption", "Out", plant.docs["PACK-K1"].name, FINISHED, plant.name("K1")),
	]
	assert device[1]["status"] == "Accepted"
	case = report_rows(serial_history, serial_no=plant.name("K1"))
	customer_a, address_a = plant.customers["A"]
	assert [(row["event"], row["voucher_no"], row["party"], row["address"], row["related"]) for row in case] == [
		("Production", plant.docs["PACK-K1"].name, None, None, f"{plant.name('D1')}, {plant.name('D2')}"),
		("Delivery", plant.docs["DN-A"].name, customer_a, address_a, ""),
	]


@pytest.mark.requirement("MT-TRC-008")
def test_reports_run_through_the_desk_and_admins_extend_them(plant):
	result = run_report("Customer Exposure", {"batch": plant.name("RB")})
	assert len(result["result"]) == 4
	assert "Customer" in [column["label"] for column in result["columns"]]

	# "Save As" with a column picked from the linked Customer: a Custom Report on the standard one.
	group = frappe.db.get_value("Customer", plant.customers["A"][0], "customer_group")
	columns = result["columns"] + [
		{"fieldname": "customer_group", "label": "Customer Group", "fieldtype": "Link", "options": "Customer Group",
		 "doctype": "Customer", "link_field": {"fieldname": "customer", "names": []}, "id": "customer_group"}
	]
	custom = frappe.get_doc(
		{"doctype": "Report", "report_name": f"Exposure by Group {plant.tag}", "report_type": "Custom Report",
		 "reference_report": "Customer Exposure", "ref_doctype": "Batch", "is_standard": "No", "module": "Traceability",
		 "json": json.dumps({"columns": columns, "filters": {"batch": plant.name("RB")}})}
	).insert()
	extended = run_report(custom.name)
	assert {row["customer_group"] for row in extended["result"]} == {group}
	assert {row["name"] for row in extended["result"]} == names(plant, "K1", "K2", "K3", "SA2")


# Refusals


@pytest.fixture
def user_with_role():
	def make(role: str) -> str:
		user = frappe.get_doc(
			{"doctype": "User", "email": f"explorer.{frappe.generate_hash(length=6)}@medtrace-test.example", "first_name": role,
			 "send_welcome_email": 0, "roles": [{"role": role}]}
		).insert(ignore_permissions=True)
		return user.name

	return make


@pytest.mark.requirement("MT-TRC-005")
def test_bad_input_is_refused_with_a_message(plant):
	unknown = f"NO-SUCH-LOT-{frappe.generate_hash(length=6)}"
	with pytest.raises(frappe.ValidationError, match="No lot or serial number"):
		downloaded(unknown, "xlsx")
	with pytest.raises(frappe.ValidationError, match="XLSX, CSV, PDF or EPCIS"):
		downloaded(plant.name("K1"), "docx")
	for execute, filters in (
		(batch_genealogy, {"batch": unknown}), (where_used, {"batch": unknown}), (customer_exposure, {"batch": unknown}),
		(serial_history, {"serial_no": unknown}),
	):
		with pytest.raises(frappe.ValidationError, match="does not exist"):
			execute(frappe._dict(filters))
	with pytest.raises(frappe.ValidationError, match="Choose the Batch to trace"):
		batch_genealogy(frappe._dict())

	with pytest.raises(frappe.ValidationError, match="ends on .* before it starts"):
		customer_exposure(frappe._dict(batch=plant.name("RB"), from_date="2026-02-01", to_date="2026-01-01"))

	frappe.db.set_single_value("MedTrace Settings", "max_trace_depth", 3)
	with pytest.raises(frappe.ValidationError, match="Depth must be from 1 to 3 levels, not 4"):
		downloaded(plant.name("K1"), "pdf", depth=4)
	with pytest.raises(frappe.ValidationError, match="Depth must be from 1 to 3 levels, not 4"):
		batch_genealogy(frappe._dict(batch=plant.name("SA1"), depth=4))
	# Without a depth, a report traces as deep as the settings allow, up to its usual ten levels.
	assert report_rows(where_used, batch=plant.name("RA"))


@pytest.mark.requirement("MT-TRC-005")
def test_a_trace_cut_short_by_its_depth_says_so(plant):
	frappe.local.message_log = []
	rows = report_rows(batch_genealogy, batch=plant.name("SA1"), depth=1)
	assert plant.name("K1") not in {row["name"] for row in rows}
	assert "goes on beyond depth 1" in json.dumps(frappe.local.message_log)


@pytest.mark.requirement("MT-PRM-001")
def test_users_who_may_not_trace_are_refused(plant, user_with_role):
	operator = user_with_role(PRODUCTION_OPERATOR)
	frappe.set_user(operator)
	with pytest.raises(frappe.PermissionError, match="not permitted to trace"):
		downloaded(plant.name("K1"), "csv")
	for report in REPORTS:
		with pytest.raises(frappe.PermissionError):
			run_report(report, {"batch": plant.name("SA1"), "serial_no": plant.name("D1")})
	with pytest.raises(frappe.PermissionError, match="not permitted to trace"):
		batch_genealogy(frappe._dict(batch=plant.name("SA1")))

	frappe.set_user("Guest")
	with pytest.raises(frappe.PermissionError):
		downloaded(plant.name("K1"), "xlsx")

	frappe.set_user("Administrator")
	engineer = user_with_role(QUALITY_ENGINEER)
	frappe.set_user(engineer)
	assert downloaded(plant.name("K1"), "csv")
	for report in REPORTS:
		assert run_report(report, {"batch": plant.name("SA1"), "serial_no": plant.name("D1")})["result"]


# Over HTTP


def test_the_page_answers_over_http_for_users_who_may_trace(web_server):
	import requests

	email = f"explorer.http.{frappe.generate_hash(length=6)}@medtrace-test.example"
	password = f"Explore-{frappe.generate_hash(length=8)}!"
	user = frappe.get_doc(
		{"doctype": "User", "email": email, "first_name": "Explorer", "send_welcome_email": 0,
		 "roles": [{"role": QUALITY_ENGINEER}], "new_password": password}
	).insert(ignore_permissions=True)
	frappe.db.commit()
	try:
		session = requests.Session()
		assert session.post(f"{web_server}/api/method/login", data={"usr": email, "pwd": password}, timeout=30).status_code == 200
		page = session.get(f"{web_server}/app/trace-explorer", timeout=30)
		assert page.status_code == 200 and "frappe.boot" in page.text
		assets = session.get(f"{web_server}/api/method/frappe.desk.desk_page.getpage", params={"name": "trace-explorer"}, timeout=30)
		assert assets.status_code == 200
		assert "medtrace.TraceExplorer" in assets.json()["docs"][0]["script"]
		unknown = session.get(
			f"{web_server}/api/method/medtrace.traceability.export.download_trace",
			params={"identifier": "NO-SUCH-LOT-HTTP", "file_format": "xlsx"}, timeout=30,
		)
		assert unknown.status_code == 417 and "No lot or serial number" in unknown.text

		guest = requests.Session()
		assert guest.get(f"{web_server}/api/method/frappe.desk.desk_page.getpage", params={"name": "trace-explorer"}, timeout=30).status_code == 403
		assert guest.get(
			f"{web_server}/api/method/medtrace.traceability.export.download_trace", params={"identifier": "X"}, timeout=30
		).status_code == 403
	finally:
		frappe.delete_doc("User", user.name, ignore_permissions=True, force=True)
		frappe.db.commit()
