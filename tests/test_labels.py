"""UDI labels: every symbol of a printed label PDF decodes back to its record's UDI, prints are logged in
UDI Label Log (label PDFs and the Desk's print view alike), and bad requests get a clear message."""

import io
import subprocess
import tempfile
from pathlib import Path

import frappe
import pytest
import zxingcpp
from biip.gs1_messages import GS1Message
from factories import make_device_identifier, make_item, receive_stock
from medtrace.setup.permissions import PRODUCTION_OPERATOR
from medtrace.udi.labels import download_labels
from PIL import Image
from pypdf import PdfReader
from test_production_udi import make_batch, released

pytestmark = pytest.mark.requirement("MT-LBL-001")

DPI = 300
MM = DPI / 25.4


@pytest.fixture
def user_with_role():
	def make(role: str) -> str:
		email = f"labels.{frappe.scrub(role)}@medtrace-test.example"
		user = frappe.get_doc("User", email) if frappe.db.exists("User", email) else frappe.get_doc(
			{"doctype": "User", "email": email, "first_name": role, "send_welcome_email": 0}
		).insert(ignore_permissions=True)
		user.set("roles", [])
		user.add_roles(role)
		return email

	return make


@pytest.fixture
def serialised_receipt():
	"""100 serial numbers of one batch of a device whose UDI carries expiry, lot and serial."""
	item = make_item(has_batch_no=1, create_new_batch=1, has_serial_no=1, serial_no_series="LBL-.#####",
	                 has_expiry_date=1, shelf_life_in_days=730)
	released(make_device_identifier(item=item.name, label_serial=1))
	return receive_stock(item.name, qty=100)


def downloaded_pdf(doctype: str, name: str, **arguments) -> bytes:
	download_labels(doctype, name, **arguments)
	assert frappe.local.response.type == "pdf"
	return frappe.local.response.filecontent


def pdf_pages(pdf: bytes) -> list[Image.Image]:
	with tempfile.TemporaryDirectory() as folder:
		subprocess.run(["pdftoppm", "-r", str(DPI), "-png", "-", f"{folder}/page"], input=pdf, check=True)
		pages = []
		for path in sorted(Path(folder).glob("page-*.png")):
			with Image.open(path) as page:
				pages.append(page.convert("L"))
		return pages


def symbols(page: Image.Image) -> dict[str, list]:
	"""The page's barcodes by format, top to bottom; GS1 text keeps its GS (FNC1) separators."""
	found = {}
	for result in sorted(zxingcpp.read_barcodes(page, text_mode=zxingcpp.TextMode.Plain), key=lambda r: r.position.top_left.y):
		found.setdefault(result.format.name, []).append(result)
	return found


def gs1(text: str) -> list[tuple[str, str]]:
	return [(element.ai.ai, element.value) for element in GS1Message.parse(text).element_strings]


def carrier_of(human_readable: str) -> str:
	"""The element string a record's stored human-readable UDI stands for (FNC1 separators as GS)."""
	return GS1Message.parse_hri(human_readable).value


def assert_gs1_label(page, udi_element_string: str, digital_link: str) -> None:
	found = symbols(page)
	assert sorted(found) == ["Code128", "DataMatrix", "QRCode"], sorted(found)
	(datamatrix,), (qr,) = found["DataMatrix"], found["QRCode"]
	# ]d2 / ]C1: FNC1 in first position, i.e. GS1 DataMatrix and GS1-128 rather than plain symbols.
	assert datamatrix.symbology_identifier == "]d2"
	assert datamatrix.text.rstrip("\x1d") == carrier_of(udi_element_string)
	assert all(linear.symbology_identifier == "]C1" for linear in found["Code128"])
	assert [element for linear in found["Code128"] for element in gs1(linear.text)] == gs1(carrier_of(udi_element_string))
	assert qr.text == digital_link


def label_logs(doctype: str, name: str) -> list:
	return frappe.get_all(
		"UDI Label Log",
		filters={"reference_doctype": doctype, "reference_name": name},
		fields=["printed_by", "printed_from", "print_format", "labels", "copies", "identifiers"],
	)


def test_stock_entry_labels_decode_to_each_serials_udi(serialised_receipt, user_with_role, web_server):
	serials = frappe.get_all(
		"Serial No",
		filters={"item_code": serialised_receipt.items[0].item_code},
		fields=["name", "udi_element_string", "udi_digital_link"],
	)
	assert len(serials) == 100 and all(serial.udi_element_string for serial in serials)
	operator = user_with_role(PRODUCTION_OPERATOR)
	frappe.set_user(operator)

	pdf = downloaded_pdf("Stock Entry", serialised_receipt.name)

	frappe.set_user("Administrator")
	document = PdfReader(io.BytesIO(pdf))
	assert len(document.pages) == 100
	assert [round(float(document.pages[0].mediabox.width) / 72 * 25.4), round(float(document.pages[0].mediabox.height) / 72 * 25.4)] == [100, 50]
	by_carrier = {carrier_of(serial.udi_element_string): serial for serial in serials}
	labelled = []
	for page in pdf_pages(pdf):
		datamatrix = symbols(page)["DataMatrix"][0]
		serial = by_carrier[datamatrix.text.rstrip("\x1d")]
		assert_gs1_label(page, serial.udi_element_string, serial.udi_digital_link)
		labelled.append(serial.name)
	assert sorted(labelled) == sorted(serial.name for serial in serials)

	# Printed at size despite wkhtmltopdf's shrinking: the 20 mm DataMatrix (its quiet zone included).
	corners = datamatrix.position
	assert 16 <= (corners.top_right.x - corners.top_left.x) / MM <= 20

	(log,) = label_logs("Stock Entry", serialised_receipt.name)
	assert (log.printed_by, log.printed_from, log.print_format, log.labels, log.copies) == (
		operator, "Label Download", "Serial No UDI Label", 100, 1
	)
	assert sorted(log.identifiers.splitlines()) == sorted(serial.udi_element_string for serial in serials)


@pytest.mark.requirement("MT-LBL-002")
def test_batch_label_copies_and_desk_print_view_are_logged(web_server, monkeypatch):
	item = make_item(has_batch_no=1, has_expiry_date=1, shelf_life_in_days=365)
	released(make_device_identifier(item=item.name, label_manufacture_date=1))
	batch = make_batch(item.name, "L2611-07", manufacturing_date="2026-11-01")

	pages = pdf_pages(downloaded_pdf("Batch", batch.name, copies=3))
	assert len(pages) == 3
	for page in pages:
		assert_gs1_label(page, batch.udi_element_string, batch.udi_digital_link)
	assert [(log.labels, log.copies, log.identifiers) for log in label_logs("Batch", batch.name)] == [
		(1, 3, batch.udi_element_string)
	]

	# The Desk's on-screen preview renders the label without printing it…
	# (the request arguments the Desk sends)
	monkeypatch.setattr(frappe.local, "form_dict", frappe._dict(doc="Batch", name=batch.name, print_format="Batch UDI Label"))
	preview = frappe.call("frappe.www.printview.get_html_and_style", **frappe.form_dict)
	assert "data:image/svg+xml;base64," in preview["html"] and batch.batch_id in preview["html"]
	assert len(label_logs("Batch", batch.name)) == 1

	# …its Print button and PDF render the print view page (what frappe.get_print runs), which is logged,
	# and committed although printing is a GET request.
	frappe.local.flags.commit = False
	# Frappe's own Access Log of the print commits the transaction unless in its test mode.
	monkeypatch.setattr(frappe.flags, "in_test", True)
	pdf = frappe.get_print("Batch", batch.name, print_format="Batch UDI Label", as_pdf=True)
	(page,) = pdf_pages(pdf)
	assert_gs1_label(page, batch.udi_element_string, batch.udi_digital_link)
	logs = label_logs("Batch", batch.name)
	assert len(logs) == 2
	assert {(log.printed_from, log.print_format, log.labels, log.copies) for log in logs} == {
		("Label Download", "Batch UDI Label", 1, 3),
		("Print View", "Batch UDI Label", 1, 1),
	}
	assert frappe.local.flags.commit


def test_hibc_label_decodes_to_the_hibc_string(web_server):
	item = make_item(has_batch_no=1)
	released(make_device_identifier(item=item.name, issuing_agency="HIBCC", udi_di="A123PRODX1"))
	batch = make_batch(item.name, "LOT42", expiry_date="2027-02-05")
	hibc = batch.udi_element_string.strip("*")
	assert hibc.startswith("+A123PRODX1/$$3270205LOT42")

	(page,) = pdf_pages(downloaded_pdf("Batch", batch.name))
	found = symbols(page)
	assert sorted(found) == ["Code128", "DataMatrix"]
	assert [result.text for result in found["DataMatrix"] + found["Code128"]] == [hibc, hibc]


def test_long_udi_takes_two_gs1_128_symbols(web_server):
	"""GS1-128 holds 48 characters: a 20-character lot and serial need a second symbol."""
	item = make_item(has_batch_no=1, has_serial_no=1, has_expiry_date=1, shelf_life_in_days=365)
	released(make_device_identifier(item=item.name, label_serial=1))
	batch = make_batch(item.name, "LOT-2026-11-ABCDEFGH")
	serial = frappe.get_doc(
		{"doctype": "Serial No", "serial_no": "SN-2026-11-000000001", "item_code": item.name, "batch_no": batch.name}
	).insert()

	(page,) = pdf_pages(downloaded_pdf("Serial No", serial.name))
	assert len(symbols(page)["Code128"]) == 2
	assert_gs1_label(page, serial.udi_element_string, serial.udi_digital_link)


@pytest.mark.parametrize(
	("request_", "error", "message"),
	[
		({"doctype": "Batch", "name": "NO-SUCH-BATCH"}, frappe.DoesNotExistError, "does not exist"),
		({"doctype": "Item"}, frappe.ValidationError, "printed for a Batch, a Serial No or a Stock Entry"),
		({"copies": 0}, frappe.ValidationError, "Copies must be between 1 and 100"),
		({"copies": 1000}, frappe.ValidationError, "Copies must be between 1 and 100"),
		({"copies": "many"}, frappe.ValidationError, "Copies must be between 1 and 100"),
		({"print_format": "Standard"}, frappe.ValidationError, "not a label format"),
		({"unlabelled": True}, frappe.ValidationError, "has no released UDI-DI"),
		({"user": "MedTrace Test Plain Desk Role"}, frappe.PermissionError, "permission to read and print"),
	],
)
def test_bad_requests_get_a_clear_message(request_, error, message, user_with_role):
	request_ = dict(request_)
	item = make_item(has_batch_no=1)
	if request_.pop("unlabelled", False):
		make_device_identifier(item=item.name)  # a draft DI is not on labels
	else:
		released(make_device_identifier(item=item.name))
	batch = make_batch(item.name, expiry_date="2030-01-01")
	if role := request_.pop("user", None):
		if not frappe.db.exists("Role", role):
			frappe.get_doc({"doctype": "Role", "role_name": role, "desk_access": 1}).insert()
		frappe.set_user(user_with_role(role))
	arguments = {"doctype": "Batch", "name": batch.name, **request_}
	if arguments["doctype"] == "Item":
		arguments["name"] = item.name

	with pytest.raises(error, match=message):
		download_labels(**arguments)
	frappe.set_user("Administrator")
	assert not frappe.db.exists("UDI Label Log", {"reference_name": arguments["name"]})
