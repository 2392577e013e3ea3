"""Stored script in print formats (issue 15, finding 3): every print format MedTrace ships prints what users
and other systems entered as text, never as markup.

The print formats are discovered from the site, the fields from their doctypes' meta: a format or a field
added later is covered without anyone listing it. Every text field of the record and of its child tables
gets a script payload quoted as a JSON string — the form Frappe's sanitiser lets through on save. Once,
the Recall Report is opened in headless Chromium over HTTP, where no script may run."""

import re

import frappe
import pytest

from factories import make_device_identifier, make_item, receive_stock, released
from medtrace.audit.audited import medtrace_modules
from medtrace.utils.html import sanitise_quoted_markup
from test_production_udi import make_batch

pytestmark = pytest.mark.requirement("MT-SEC-001")

TEXT_FIELDTYPES = frozenset({"Data", "Small Text", "Text", "Long Text", "Text Editor", "Read Only"})
# A payload's tag or handler printed as markup (escaped, its quote is &#39;): group 1 is the payload's token.
RUNNABLE = re.compile(r"(?:<img src=x onerror=|<script>|\bonerror=\"?)alert\('(mtxss\d+)'", re.IGNORECASE)


def payload(token: str) -> str:
	return f"\"<img src=x onerror=alert('{token}')><script>alert('{token}')</script>\""


def filled_record(doctype: str, value_for, select=lambda options: options[0]) -> "frappe.Document":
	"""An unsaved record whose text fields, and those of one row of each child table, hold value_for(field)."""
	doc = frappe.new_doc(doctype)
	fill(doc, value_for, select)
	for table in doc.meta.get_table_fields():
		fill(doc.append(table.fieldname, {}), value_for, select)
	doc.name = f"MT-PRINT-{frappe.generate_hash(length=8).upper()}"
	return doc


def fill(doc, value_for, select) -> None:
	for df in doc.meta.fields:
		if df.fieldtype in TEXT_FIELDTYPES:
			doc.set(df.fieldname, value_for(f"{doc.doctype}.{df.fieldname}"))
		elif df.fieldtype == "Select" and (options := [option for option in (df.options or "").split("\n") if option]):
			doc.set(df.fieldname, select(options))


def labelled_record(doctype: str):
	"""A received Batch or Serial No of a device whose label carries lot, serial and expiry, and whose item's
	name is a payload."""

	def make(value_for) -> "frappe.Document":
		item = make_item(has_batch_no=1, create_new_batch=1, has_serial_no=1, serial_no_series="XSS-.#####", has_expiry_date=1,
		                 shelf_life_in_days=730)
		released(make_device_identifier(item=item.name, label_serial=1))
		receive_stock(item.name, qty=1)
		stored_raw("Item", item.name, "item_name", value_for("Item.item_name"))
		return frappe.get_doc(doctype, {"item" if doctype == "Batch" else "item_code": item.name})

	return make


def packed_case(value_for) -> "frappe.Document":
	"""A case holding one serialised unit of an item whose name is a payload."""
	from test_packaging import COMPANY_PREFIX, new_package, serialised_device, unit_label

	from medtrace.packaging.packing import pack_scans

	frappe.db.set_single_value("MedTrace Settings", {"gs1_company_prefix": COMPANY_PREFIX, "sscc_extension_digit": 3})
	device = serialised_device(1, per_case=1)
	case = new_package(identified_by="SSCC and Package UDI", udi_device_identifier=device.case)
	pack_scans(case.name, [unit_label(device.serials[0])])
	stored_raw("Item", device.item, "item_name", value_for("Item.item_name"))
	return frappe.get_doc("Package", case.name)


def stored_raw(doctype: str, name: str, fieldname: str, value: str) -> None:
	"""A value stored as it was before saving sanitised quoted markup, or written by a path without hooks."""
	frappe.db.set_value(doctype, name, fieldname, value, update_modified=False)
	frappe.clear_document_cache(doctype, name)


# Records whose printed text comes from other records (a label prints its item's name): saved for real.
SAVED_RECORDS = {"Batch": labelled_record("Batch"), "Serial No": labelled_record("Serial No"), "Package": packed_case}


def shipped_print_formats() -> list:
	return frappe.get_all(
		"Print Format",
		filters={"module": ("in", list(medtrace_modules())), "standard": "Yes", "disabled": 0},
		fields=["name", "doc_type"],
		order_by="name",
	)


class Payloads:
	"""A payload per field, each with its own token, so a finding names the field."""

	def __init__(self):
		self.fields: dict[str, str] = {}

	def __call__(self, field: str) -> str:
		token = self.fields.setdefault(field, f"mtxss{len(self.fields)}")
		return payload(token)

	def shown(self, html: str) -> set[str]:
		return {field for field, token in self.fields.items() if re.search(rf"{token}\b", html)}

	def runnable(self, html: str) -> set[str]:
		fields = {token: field for field, token in self.fields.items()}
		return {fields[match.group(1)] for match in RUNNABLE.finditer(html) if match.group(1) in fields}


def test_the_app_ships_print_formats_for_its_evidence():
	assert {"Device History Record", "Recall Report", "Change Request", "Batch UDI Label", "Serial No UDI Label"} <= {
		print_format.name for print_format in shipped_print_formats()
	}


@pytest.mark.parametrize("select", [lambda options: options[0], lambda options: options[-1]], ids=["first-options", "last-options"])
def test_every_shipped_print_format_prints_entered_text_as_text(select):
	problems = {}
	for print_format in shipped_print_formats():
		payloads = Payloads()
		saved = SAVED_RECORDS.get(print_format.doc_type)
		frappe.db.savepoint("print")
		try:
			doc = saved(payloads) if saved else filled_record(print_format.doc_type, payloads, select)
			html = frappe.get_print(print_format.doc_type, doc.name, print_format.name, doc=None if saved else doc)
		except frappe.ValidationError as error:
			frappe.db.rollback(save_point="print")
			problems[print_format.name] = (
				f"cannot print an unsaved record with its text fields filled ({error}): add a builder of a saved one to SAVED_RECORDS"
			)
			continue
		if not payloads.shown(html):
			problems[print_format.name] = "prints none of the text fields filled"
		elif runnable := payloads.runnable(html):
			problems[print_format.name] = f"prints markup entered in {sorted(runnable)}"
	assert not problems, problems


def test_the_check_finds_markup_printed_raw():
	"""The test above can fail: a format printing a field without escaping is caught."""
	payloads = Payloads()
	html = frappe.render_template("<p>{{ doc.title }}</p>", {"doc": {"title": payloads("Recall.title")}})
	assert payloads.runnable(html) == {"Recall.title"}


def test_rich_text_keeps_formatting_and_drops_scripts():
	payloads = Payloads()
	doc = filled_record("Change Request", payloads)
	doc.description = "<p><b>Bold</b> change</p>" + payloads("Change Request.description")
	html = frappe.get_print("Change Request", doc.name, "Change Request", doc=doc)
	assert "<b>Bold</b>" in html
	assert not payloads.runnable(html)


def test_trace_evidence_report_prints_entered_text_as_text():
	payloads = Payloads()
	node = {"name": "LOT-1", "doctype": "Batch", "item": "ITEM-1", "item_name": payloads("item_name"), "udi": payloads("udi"), "qty": 1,
	        "uom": payloads("uom"), "depth": 0}
	link = {"voucher_type": "Stock Entry", "voucher_no": "STE-1", "posting_datetime": "2026-12-07 10:00:00", "attributed_qty": 1}
	html = frappe.render_template(
		"medtrace/templates/trace_evidence.html",
		{
			"query": {"doctype": "Batch", "name": "LOT-1", "truncated": False, "depth": 10},
			"summary": {"rows": [("Item Name", payloads("summary"))]},
			"tree": [{"node": node, "link": link, "indent": 1, "shown_elsewhere": False}],
			"tables": [frappe._dict(title="Customers", columns=["Customer"], rows=[[payloads("customer")]])],
			"traced_by": payloads("traced_by"),
			"traced_at": "2026-12-07 10:00",
			"text": str,
		},
	)
	assert payloads.shown(html) == set(payloads.fields)
	assert not payloads.runnable(html)


def test_recall_report_runs_no_script_in_chromium(web_server, chromium):
	"""Finding 3 as it was seen: the Recall Report opened on /printview in a browser."""
	item = make_item(has_batch_no=1)
	batch = make_batch(item.name)
	recall = frappe.get_doc(
		{"doctype": "Recall", "title": "Recall of a lot", "classification": "Class II", "trigger": "Internal Finding",
		 "reason": "Moulding temperature out of range", "scope": [{"batch_no": batch.name}]}
	).insert()
	stored_raw("Recall", recall.name, "reason", payload("reason"))
	frappe.db.commit()  # the web server reads the recall from the database
	context = chromium.new_context()
	try:
		assert context.request.post(f"{web_server}/api/method/login", form={"usr": "Administrator", "pwd": "admin"}).ok
		page = context.new_page()
		dialogs = []
		page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
		page.goto(f"{web_server}/printview?doctype=Recall&name={recall.name}&format=Recall%20Report", wait_until="load")
		page.wait_for_timeout(1500)
		assert "onerror=alert('reason')" in page.inner_text(".print-format")  # printed, as text
		assert dialogs == []
		# The listener does see a script that runs: the same markup unescaped raises the dialog.
		page.set_content(payload("reason"))
		page.wait_for_timeout(500)
		assert dialogs
	finally:
		context.close()
		frappe.db.rollback()
		frappe.delete_doc("Recall", recall.name, force=True, ignore_permissions=True)
		frappe.delete_doc("Batch", batch.name, force=True, ignore_permissions=True)
		frappe.delete_doc("Item", item.name, force=True, ignore_permissions=True)
		frappe.db.commit()


def test_quoted_markup_is_sanitised_on_save():
	"""Frappe's sanitiser skips values that parse as JSON; MedTrace sanitises quoted markup of every doctype
	on save (an ERPNext Item here)."""
	item = make_item(item_name=payload("item"), description="Quoted markup")
	assert "onerror" not in frappe.db.get_value("Item", item.name, "item_name")


def test_quoted_markup_is_sanitised_in_child_rows_and_json_and_code_are_kept():
	payloads = Payloads()
	doc = filled_record("Change Request", payloads)
	sanitise_quoted_markup(doc)
	assert not payloads.runnable(doc.as_json().replace('\\"', '"'))
	rule = frappe.get_doc({"doctype": "Data Quality Rule", "description": '{"supplier": "<b>ACME</b>"}', "filters_json": payload("code")})
	sanitise_quoted_markup(rule)
	assert rule.description == '{"supplier": "<b>ACME</b>"}'  # a JSON object is data, not quoted markup
	assert rule.filters_json == payload("code")  # Code fields hold what they hold
