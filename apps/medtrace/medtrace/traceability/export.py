"""Downloads of a trace, as the Trace Explorer offers them: the whole result as an XLSX workbook (a sheet
per table) or as one CSV file (the tables one after another, each under its title), and a PDF evidence
report (the query, who traced and when, the genealogy tree, the documents, suppliers and customers), or
as an EPCIS 2.0 JSON-LD document for partners (medtrace.packaging.epcis).

Each download traces again, server-side, with the parameters the Explorer showed and the downloading
user's permissions: a file never holds more than its user may see, and never differs from a fresh trace.
"""

import csv
import io
import json
import re
from dataclasses import dataclass

import frappe
import openpyxl
from frappe import _
from frappe.utils import format_datetime
from frappe.utils.pdf import get_pdf
from frappe.utils.xlsxutils import make_xlsx

from medtrace.packaging.epcis import check_readers as check_epcis_readers
from medtrace.packaging.epcis import epcis_document, trace_events
from medtrace.traceability.api import get_trace
from medtrace.traceability.engine import reject
from medtrace.traceability.trace_links import parse_node_key
from medtrace.traceability.trace_views import customer_deliveries, customer_devices, supplier_lots, translated
from medtrace.traceability.tree import trace_tree
from medtrace.utils.evidence_pdf import number_pages

FILE_FORMATS = ("xlsx", "csv", "pdf", "jsonld")


@dataclass
class Table:
	title: str
	columns: list[str]
	rows: list[list]


@frappe.whitelist()
def download_trace(
	identifier: str,
	file_format: str = "xlsx",
	direction: str = "backward",
	depth: int | str = 10,
	from_date: str | None = None,
	to_date: str | None = None,
	item: str | list | None = None,
	customer: str | list | None = None,
	start_type: str = "identifier",
	supplier: str | None = None,
	received_from: str | None = None,
	received_to: str | None = None,
	supplied_item: str | list | None = None,
) -> None:
	"""The trace get_trace gives for these arguments, as a file: xlsx, csv, pdf or jsonld (EPCIS 2.0)."""
	if file_format not in FILE_FORMATS:
		reject(_("Download the trace as XLSX, CSV, PDF or EPCIS, not {0}.").format(frappe.bold(str(file_format))))
	if file_format == "jsonld":
		check_epcis_readers()
	result = get_trace(
		identifier, direction, depth, from_date, to_date, item, customer, start_type, supplier, received_from, received_to, supplied_item
	)
	content = {"xlsx": trace_xlsx, "csv": trace_csv, "pdf": trace_pdf, "jsonld": trace_epcis}[file_format](result)
	frappe.response.filename = f"{file_stem(result)}.{file_format}"
	frappe.response.filecontent = content
	frappe.response.type = "download"


def trace_epcis(result: dict) -> str:
	return json.dumps(epcis_document(trace_events(result)), indent=1, ensure_ascii=False)


def file_stem(result: dict) -> str:
	query = result["query"]
	return re.sub(r"[^A-Za-z0-9._-]+", "_", f"trace-{query['name']}-{query['direction']}")


def trace_xlsx(result: dict) -> bytes:
	workbook = openpyxl.Workbook()
	workbook.remove(workbook.active)
	# make_xlsx puts each sheet first and saves the workbook each time: the last call's file holds them all.
	content = None
	for table in reversed(trace_tables(result)):
		content = make_xlsx([table.columns, *table.rows], table.title, wb=workbook)
	return content.getvalue()


def trace_csv(result: dict) -> bytes:
	output = io.StringIO()
	writer = csv.writer(output, lineterminator="\n")
	for number, table in enumerate(trace_tables(result)):
		if number:
			writer.writerow([])
		writer.writerow([f"# {table.title}"])
		writer.writerow(table.columns)
		writer.writerows(["" if value is None else value for value in row] for row in table.rows)
	# With a byte order mark, spreadsheet programs read the file as UTF-8 (Chinese names stay legible).
	return output.getvalue().encode("utf-8-sig")


def trace_pdf(result: dict) -> bytes:
	query = result["query"]
	html = frappe.render_template(
		"medtrace/templates/trace_evidence.html",
		{
			"query": query,
			"summary": summary_table(result),
			"tree": trace_tree(result),
			"tables": [*start_tables(result), documents_table(result), suppliers_table(result), customers_table(result)],
			"traced_by": frappe.utils.get_fullname(query["user"]),
			"traced_at": format_datetime(query["traced_at"]),
			"text": cell_text,
		},
	)
	pdf = get_pdf(html, {"orientation": "Landscape"})
	return number_pages(pdf, f"Trace {query['name']}")


def cell_text(value) -> str:
	"""A table cell as the PDF prints it: whole quantities without decimals, nothing as a dash."""
	if value is None or value == "":
		return "—"
	if isinstance(value, float):
		return f"{value:,.6f}".rstrip("0").rstrip(".")
	return str(value)


def moment(value: str | None) -> str | None:
	"""A posting date and time to the second: the microseconds ERPNext keeps tell a reader nothing."""
	return value[:19] if value else value


# The tables


def trace_tables(result: dict) -> list[Table]:
	return [
		summary_table(result),
		*start_tables(result),
		tree_table(result),
		nodes_table(result),
		links_table(result),
		documents_table(result),
		movements_table(result),
		suppliers_table(result),
		inspections_table(result),
		customers_table(result),
		warehouses_table(result),
		work_orders_table(result),
		boms_table(result),
	]


def summary_table(result: dict) -> Table:
	query, filters = result["query"], result["query"]["filters"]
	rows = [
		(_("Identifier"), query["identifier"]),
		(_("Traced Record"), f"{translated(query['doctype'])} {query['name']}"),
		*start_rows(query["start"]),
		(_("Direction"), direction_label(query["direction"])),
		(_("Depth"), query["depth"]),
		(_("Depth Reached"), query["depth_reached"]),
		(_("Maximum Trace Depth"), query["max_depth"]),
		(_("Stopped at the Depth Limit"), _("Yes") if query["truncated"] else _("No")),
		(_("From Date"), filters["from_date"]),
		(_("To Date"), filters["to_date"]),
		(_("Items"), ", ".join(filters["item"])),
		(_("Customers"), ", ".join(filters["customer"])),
		(_("Traced By"), f"{frappe.utils.get_fullname(query['user'])} ({query['user']})"),
		(_("Traced At"), moment(query["traced_at"])),
		(_("Lots, Serial Nos and Work Orders"), len(result["nodes"])),
	]
	return Table(_("Trace"), [_("Parameter"), _("Value")], [list(row) for row in rows])


def start_rows(start: dict) -> list[tuple]:
	"""What a trace from a supplier, supplier lot or customer stood for."""
	if start["start_type"] in ("identifier", "records"):
		return []
	rows = [(_("Starts From"), f"{start['label']} ({start['name']})" if start["label"] else start["name"])]
	if start["supplier"] and start["doctype"] != "Supplier":
		rows.append((_("Supplier"), start["supplier"]))
	if start["received_from"] or start["received_to"]:
		rows.append((_("Received"), f"{start['received_from'] or '…'} – {start['received_to'] or '…'}"))
	if start["supplied_items"]:
		rows.append((_("Items Received"), ", ".join(start["supplied_items"])))
	rows.append((_("Starting Lots and Serial Nos"), len(start["nodes"])))
	if start["ambiguous"]:
		rows.append((_("Ambiguous"), start["message"]))
	return rows


def start_tables(result: dict) -> list[Table]:
	"""The lots a supplier or supplier lot stood for, with whom they came from; a customer's devices."""
	start = result["query"]["start"]
	if start["start_type"] == "customer":
		return [customer_devices_table(result)]
	if not start["candidates"]:
		return []
	return [
		Table(
			_("Starting Lots and Serial Nos"),
			[_("Lot / Serial No"), _("Record Type"), _("Item"), _("Item Name"), _("Supplier Lot"), _("Supplier"), _("Received Qty"),
			 _("First Received"), _("Receipts")],
			[
				[row["name"], translated(row["doctype"]), row["item"], row["item_name"], row["supplier_lot"], row["supplier"],
				 row["received_qty"], moment(row["first_received"]), ", ".join(row["receipts"])]
				for row in start["candidates"]
			],
		)
	]


def customer_devices_table(result: dict) -> Table:
	return Table(
		_("Customer Devices"),
		[_("Lot / Serial No"), _("Record Type"), _("Item"), _("Item Name"), _("Lot"), _("Serial No"), _("UDI"), _("Delivered Qty"),
		 _("Returned Qty"), _("Net Qty"), _("Return Status"), _("Delivery Notes and Returns"), _("First Delivered"), _("Contains"),
		 _("Supplier Lots")],
		[
			[row["name"], translated(row["doctype"]), row["item"], row["item_name"], row["lot"], row["serial_no"], row["udi"],
			 row["delivered_qty"], row["returned_qty"], row["net_qty"], row["return_status"], ", ".join(row["documents"]),
			 moment(row["first_delivered"]), ", ".join(row["contains"]), ", ".join(row["supplier_lots"])]
			for row in customer_devices(result)
		],
	)


def direction_label(direction: str) -> str:
	return _("Backward: where it came from") if direction == "backward" else _("Forward: where it went")


def tree_table(result: dict) -> Table:
	return Table(
		_("Genealogy"),
		[_("Level"), _("Lot / Serial No"), _("Record Type"), _("Item"), _("Item Name"), _("UDI"), _("Qty"), _("UOM"),
		 _("Consumed Qty"), _("Attributed Qty"), _("Document Type"), _("Document"), _("Posting Date"), _("Shown Elsewhere")],
		[
			[row["indent"], "    " * row["indent"] + row["node"]["name"], translated(row["node"]["doctype"]), row["node"]["item"],
			 row["node"]["item_name"], row["node"]["udi"], row["node"]["qty"], row["node"]["uom"], *link_cells(row["link"]),
			 _("Yes") if row["shown_elsewhere"] else ""]
			for row in trace_tree(result)
		],
	)


def link_cells(link: dict | None) -> list:
	if not link:
		return [None] * 5
	return [link["qty"], link["attributed_qty"], translated(link["voucher_type"]), link["voucher_no"], moment(link["posting_datetime"])]


def nodes_table(result: dict) -> Table:
	return Table(
		_("Lots and Serial Nos"),
		[_("Depth"), _("Record Type"), _("Lot / Serial No"), _("Item"), _("Item Name"), _("Lot"), _("Serial No"), _("UDI"),
		 _("UDI-DI"), _("Supplier Lot"), _("Qty"), _("In Stock"), _("UOM"), _("Manufacturing Date"), _("Expiry Date"),
		 _("Status")],
		[
			[node["depth"], translated(node["doctype"]), node["name"], node["item"], node["item_name"], node["lot"], node["serial_no"],
			 node["udi"], node["udi_di"], node["supplier_lot"], node["qty"], node["in_stock"], node["uom"],
			 node["manufacturing_date"], node["expiry_date"], translated(node["status"])]
			for node in result["nodes"]
		],
	)


def links_table(result: dict) -> Table:
	return Table(
		_("Links"),
		[_("From"), _("From Item"), _("To"), _("To Item"), _("Event"), _("Consumed Qty"), _("Output Qty"), _("Attributed Qty"),
		 _("Document Type"), _("Document"), _("Posting Date"), _("Work Order"), _("BOM")],
		[
			[node_name(link["from"]), link["from_item"], node_name(link["to"]), link["to_item"], translated(link["event"]), link["qty"],
			 link["output_qty"], link["attributed_qty"], translated(link["voucher_type"]), link["voucher_no"], moment(link["posting_datetime"]),
			 link["work_order"], link["bom"]]
			for link in result["edges"]
		],
	)


def documents_table(result: dict) -> Table:
	return Table(
		_("Documents"),
		[_("Posting Date"), _("Document Type"), _("Document"), _("Events"), _("Party Type"), _("Party"), _("Lots / Serial Nos")],
		[
			[moment(row["posting_datetime"]), translated(row["voucher_type"]), row["voucher_no"], ", ".join(translated(event) for event in row["events"]),
			 translated(row["party_type"]), row["party"], ", ".join(node_name(node) for node in row["nodes"])]
			for row in result["timeline"]
		],
	)


def movements_table(result: dict) -> Table:
	return Table(
		_("Movements"),
		[_("Posting Date"), _("Lot / Serial No"), _("Event"), _("In / Out"), _("Qty"), _("Warehouse"), _("Document Type"),
		 _("Document"), _("Party Type"), _("Party"), _("Address")],
		[
			[moment(row["posting_datetime"]), node_name(row["node"]), translated(row["event"]), _("In") if row["direction"] == "In" else _("Out"), row["qty"], row["warehouse"],
			 translated(row["voucher_type"]), row["voucher_no"], translated(row["party_type"]), row["party"], row["address"]]
			for row in result["movements"]
		],
	)


def suppliers_table(result: dict) -> Table:
	return Table(
		_("Suppliers"),
		[_("Supplier"), _("Supplier Name"), _("Lot / Serial No"), _("Item"), _("Supplier Lot"), _("Received Qty"),
		 _("Returned Qty"), _("Receipts and Returns")],
		[
			[row["supplier"], row["supplier_name"], row["node"].get("name"), row["node"].get("item"), row["supplier_lot"],
			 row["received_qty"], row["returned_qty"], ", ".join(row["documents"])]
			for row in supplier_lots(result)
		],
	)


def inspections_table(result: dict) -> Table:
	return Table(
		_("Quality Inspections"),
		[_("Quality Inspection"), _("Inspection Type"), _("Status"), _("Item"), _("Lot"), _("Serial No"), _("Reference Type"),
		 _("Reference"), _("Report Date"), _("Inspected By"), _("Readings")],
		[
			[row["quality_inspection"], translated(row["inspection_type"]), translated(row["status"]), row["item"],
			 row["batch_no"], row["serial_no"], translated(row["reference_type"]), row["reference_name"],
			 row["report_date"], row["inspected_by"], readings_text(row["readings"])]
			for row in result["quality_inspections"]
		],
	)


def readings_text(readings: list) -> str:
	return "; ".join(
		f"{reading['specification']}: {reading['value']}" + (f" ({translated(reading['status'])})" if reading["status"] else "")
		for reading in readings
	)


def customers_table(result: dict) -> Table:
	return Table(
		_("Customers"),
		[_("Customer"), _("Customer Name"), _("Lot / Serial No"), _("Item"), _("Item Name"), _("Delivered Qty"),
		 _("Returned Qty"), _("Net Qty"), _("Delivery Notes and Returns"), _("Shipping Address")],
		[
			[row["customer"], row["customer_name"], row["node"].get("name"), row["node"].get("item"), row["node"].get("item_name"),
			 row["delivered_qty"], row["returned_qty"], row["net_qty"], ", ".join(row["documents"]),
			 "; ".join(address.get("address_display") or address["address"] for address in row["addresses"])]
			for row in customer_deliveries(result)
		],
	)


def warehouses_table(result: dict) -> Table:
	return Table(
		_("Warehouses"),
		[_("Warehouse"), _("Lot / Serial No"), _("Qty in Stock")],
		[[row["warehouse"], node_name(held["node"]), held["qty"]] for row in result["warehouses"] for held in row["nodes"]],
	)


def work_orders_table(result: dict) -> Table:
	return Table(
		_("Work Orders"),
		[_("Work Order"), _("Item"), _("Item Name"), _("BOM"), _("Qty"), _("Produced Qty"), _("Status"), _("Actual Start Date"),
		 _("Actual End Date"), _("Lots / Serial Nos Made")],
		[
			[row["work_order"], row["production_item"], row["item_name"], row["bom"], row["qty"], row["produced_qty"],
			 translated(row["status"]), row["actual_start_date"], row["actual_end_date"], ", ".join(node_name(node) for node in row["outputs"])]
			for row in result["work_orders"]
		],
	)


def boms_table(result: dict) -> Table:
	return Table(
		_("BOMs"),
		[_("BOM"), _("Item"), _("Item Name"), _("Quantity"), _("Is Active"), _("Is Default")],
		[
			[row["bom"], row["item"], row["item_name"], row["quantity"], _("Yes") if row["is_active"] else _("No"),
			 _("Yes") if row["is_default"] else _("No")]
			for row in result["boms"]
		],
	)


def node_name(key: str) -> str:
	return parse_node_key(key)[1]
