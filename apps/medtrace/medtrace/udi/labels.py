"""UDI labels of batches and serial numbers: the barcodes, the label print formats' data, the label PDF of
a batch or a stock entry, and the UDI Label Log of every label printed.

Symbols are SVG data URIs built from the encoders' module geometry, so they stay sharp at any print size:
GS1 DataMatrix and GS1-128 by libzint in GS1 mode (FNC1 in first position, GS between variable-length
AIs, every AI checked by zint's GS1 syntax engine), the GS1 Digital Link as a QR code by qrcode, and HIBC
UDIs as HIBC DataMatrix / HIBC Code 128 (zint adds the leading '+' and the mod-43 check character).
"""

import base64
import datetime
from contextlib import contextmanager
from dataclasses import dataclass

import frappe
import qrcode
import zint
from biip.gs1_messages import GS1Message
from frappe import _
from frappe.utils import cint, now_datetime

from medtrace.udi.production_udi import (
	PRODUCING_PURPOSES,
	batch_production_identifiers,
	build_udi_codes,
	get_device_identifier,
	labelled_identifiers,
	serial_production_identifiers,
)
from medtrace.udi.udi_codes import UDICodes
from medtrace.utils.bundles import bundle_entries

LABEL_PRINT_FORMATS = {"Batch": "Batch UDI Label", "Serial No": "Serial No UDI Label"}
MAX_COPIES = 100
MAX_LABELS_PER_PDF = 2000
# Debian's wkhtmltopdf (unpatched Qt) lays a page out at 1/1.3 of its CSS size and ignores --zoom, so
# the label template zooms itself back in PDFs (tests/test_labels.py measures the printed size).
UNPATCHED_WKHTMLTOPDF_ZOOM = 1.3


@dataclass(frozen=True)
class LinearSymbol:
	src: str  # SVG data URI
	width: float  # % of the label's linear barcode area, so that a label's symbols share one module width


@dataclass(frozen=True)
class UDILabel:
	doctype: str
	name: str
	item_code: str
	item_name: str
	udi_di: str
	issuing_agency: str
	lot: str | None
	serial: str | None
	expiry_date: datetime.date | None
	manufacture_date: datetime.date | None
	codes: UDICodes
	datamatrix: str  # SVG data URI
	linear: list[LinearSymbol]  # GS1-128 holds 48 characters: a longer UDI takes two symbols
	qr: str | None  # GS1 Digital Link; HIBC has none
	pdf_zoom: float
	standalone: bool  # on a page of its own, which then carries the label styles (a label PDF has them once)


# Symbols


def svg_data_uri(width: float, height: float, rects, keep_aspect: bool = True) -> str:
	path = "".join(f"M{x:g} {y:g}h{w:g}v{h:g}h{-w:g}z" for x, y, w, h in rects)
	# A linear symbol may be stretched to the label's height; its bar widths still scale alike.
	aspect = "xMidYMid meet" if keep_aspect else "none"
	svg = (
		f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:g} {height:g}" preserveAspectRatio="{aspect}" '
		f'shape-rendering="crispEdges"><rect width="{width:g}" height="{height:g}" fill="#fff"/><path d="{path}"/></svg>'
	)
	return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def zint_symbol(symbology, data: str, gs1: bool = False) -> "zint.Symbol":
	"""Raises RuntimeError with zint's message when the data cannot be encoded."""
	symbol = zint.Symbol()
	symbol.symbology = symbology
	if gs1:
		symbol.input_mode = zint.InputMode.GS1
	symbol.show_text = False
	symbol.output_options = zint.OutputOptions.BARCODE_QUIET_ZONES
	# zint's warnings (e.g. a wrong GTIN check digit) would otherwise still give a symbol.
	symbol.warn_level = zint.WarningLevel.FAIL_ALL
	symbol.encode(data)
	return symbol


def zint_svg(symbol: "zint.Symbol", keep_aspect: bool = True) -> str:
	symbol.buffer_vector()
	vector = symbol.vector
	rects = [(rect.x, rect.y, rect.width, rect.height) for rect in vector.rectangles]
	return svg_data_uri(vector.width, vector.height, rects, keep_aspect)


def zint_gs1_input(elements: list[tuple[str, str]]) -> str:
	"""zint's GS1 input form: AIs in square brackets (values may hold parentheses, never brackets)."""
	return "".join(f"[{ai}]{value}" for ai, value in elements)


def gs1_elements(carrier: str) -> list[tuple[str, str]]:
	return [(element.ai.ai, element.value) for element in GS1Message.parse(carrier).element_strings]


def gs1_128_symbols(elements: list[tuple[str, str]]) -> list["zint.Symbol"]:
	"""As few GS1-128 symbols as hold the elements in order (GS1-128 is limited to 48 characters)."""
	symbols, group, last = [], [], None
	for element in elements:
		try:
			last = zint_symbol(zint.Symbology.GS1_128, zint_gs1_input([*group, element]), gs1=True)
			group.append(element)
		except RuntimeError:
			if not group:
				raise
			symbols.append(last)
			group = [element]
			last = zint_symbol(zint.Symbology.GS1_128, zint_gs1_input(group), gs1=True)
	symbols.append(last)
	return symbols


def linear_symbols(symbols: list["zint.Symbol"]) -> list[LinearSymbol]:
	sources = [zint_svg(symbol, keep_aspect=False) for symbol in symbols]
	widest = max(symbol.vector.width for symbol in symbols)
	return [
		LinearSymbol(source, round(100 * symbol.vector.width / widest, 2))
		for source, symbol in zip(sources, symbols, strict=True)
	]


def qr_svg(text: str) -> str:
	code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
	code.add_data(text)
	code.make(fit=True)
	matrix = code.get_matrix()
	rects = []
	for y, row in enumerate(matrix):
		x = 0
		while x < len(row):
			start = x
			while x < len(row) and row[x]:
				x += 1
			if x > start:
				rects.append((start, y, x - start, 1))
			x += 1
	return svg_data_uri(len(matrix), len(matrix), rects)


def carrier_symbols(agency: str, codes: UDICodes) -> tuple[str, list[LinearSymbol], str | None]:
	"""(DataMatrix, linear symbols, Digital Link QR) of a UDI."""
	if agency == "HIBCC":
		# zint takes the HIBC data without its leading '+' and check character, and adds both itself.
		data = codes.carrier[1:-1]
		return (
			zint_svg(zint_symbol(zint.Symbology.HIBC_DM, data)),
			linear_symbols([zint_symbol(zint.Symbology.HIBC_128, data)]),
			None,
		)
	elements = gs1_elements(codes.carrier)
	return (
		zint_svg(zint_symbol(zint.Symbology.DATAMATRIX, zint_gs1_input(elements), gs1=True)),
		linear_symbols(gs1_128_symbols(elements)),
		qr_svg(codes.digital_link),
	)


# Labels


def label_codes(record) -> tuple:
	"""(device identifier, the production identifiers its label carries, UDI codes) of a Batch or Serial
	No, as its UDI fields were computed (medtrace.udi.production_udi)."""
	item_code = record.item if record.doctype == "Batch" else record.item_code
	if not record.udi_device_identifier:
		frappe.throw(
			_("{0} {1} has no UDI: item {2} has no released UDI-DI.").format(
				_(record.doctype), frappe.bold(record.name), frappe.bold(item_code)
			),
			title=_("No UDI"),
		)
	device_identifier = get_device_identifier(record.udi_device_identifier, item_code)
	pi = (
		batch_production_identifiers(record)
		if record.doctype == "Batch"
		else serial_production_identifiers(record, device_identifier)
	)
	codes = build_udi_codes(device_identifier, pi)
	# A label must say what the record says: a record whose data changed since its UDI was computed
	# is saved (and so re-validated) first.
	if codes.human_readable != record.udi_element_string:
		frappe.throw(
			_(
				"The UDI stored on {0} {1} ({2}) is not the one its data gives ({3}); save {1} to update it."
			).format(
				_(record.doctype),
				frappe.bold(record.name),
				record.udi_element_string or "-",
				codes.human_readable,
			),
			title=_("UDI Out of Date"),
		)
	return device_identifier, labelled_identifiers(device_identifier, pi), codes


def pdf_zoom() -> float:
	from frappe.utils.pdf import is_wkhtmltopdf_valid as wkhtmltopdf_has_patched_qt

	return 1 if wkhtmltopdf_has_patched_qt() else UNPATCHED_WKHTMLTOPDF_ZOOM


def make_label(record, standalone: bool = True) -> UDILabel:
	device_identifier, pi, codes = label_codes(record)
	try:
		datamatrix, linear, qr = carrier_symbols(device_identifier.issuing_agency, codes)
	except RuntimeError as error:
		frappe.throw(
			_("UDI {0} of {1} {2} cannot be encoded in a barcode: {3}").format(
				codes.human_readable, _(record.doctype), record.name, error
			),
			title=_("Invalid UDI"),
		)
	return UDILabel(
		doctype=record.doctype,
		name=record.name,
		item_code=device_identifier.item,
		item_name=frappe.get_cached_value("Item", device_identifier.item, "item_name"),
		udi_di=device_identifier.udi_di,
		issuing_agency=device_identifier.issuing_agency,
		lot=pi.lot,
		serial=pi.serial,
		expiry_date=pi.expiry_date,
		manufacture_date=pi.manufacture_date,
		codes=codes,
		datamatrix=datamatrix,
		linear=linear,
		qr=qr,
		pdf_zoom=pdf_zoom(),
		standalone=standalone,
	)


def udi_label(doc) -> UDILabel:
	"""Jinja method of the label print formats: the label of a Batch or Serial No.

	Printing is logged here because every way Frappe prints a document renders its print format: the
	Desk's Print button (the /printview page) and every PDF (download_pdf, multi-PDF, email attachments
	all go through frappe.get_print, which renders that same page). Both read the document from
	form_dict doctype / name — the page's request arguments, which get_print sets. The Desk's on-screen
	preview (printview.get_html_and_style) sends form_dict doc / name instead and is not logged.
	download_labels collects the labels it renders and logs them together."""
	collected = getattr(frappe.local, "medtrace_collected_labels", None)
	label = make_label(doc, standalone=collected is None)
	if collected is not None:
		collected.append(label)
	elif frappe.form_dict.get("doctype") == doc.doctype and frappe.form_dict.get("name") == doc.name:
		print_format = frappe.form_dict.get("format") or frappe.get_meta(doc.doctype).default_print_format
		log_label_print(doc.doctype, doc.name, print_format, [label], copies=1, printed_from="Print View")
	return label


@contextmanager
def collected_labels():
	frappe.local.medtrace_collected_labels = labels = []
	try:
		yield labels
	finally:
		del frappe.local.medtrace_collected_labels


def log_label_print(
	reference_doctype: str,
	reference_name: str,
	print_format: str | None,
	labels: list[UDILabel],
	copies: int,
	printed_from: str,
) -> None:
	frappe.get_doc(
		{
			"doctype": "UDI Label Log",
			"printed_by": frappe.session.user,
			"printed_on": now_datetime(),
			"printed_from": printed_from,
			"print_format": print_format,
			"reference_doctype": reference_doctype,
			"reference_name": reference_name,
			"labels": len(labels),
			"copies": copies,
			"identifiers": "\n".join(label.codes.human_readable for label in labels),
		}
	).insert(ignore_permissions=True)
	# Printing is a GET request (the print window, a PDF download), which Frappe would roll back.
	frappe.local.flags.commit = True


# Label PDFs


def records_to_label(doc) -> list:
	"""The Batch / Serial No records a document's labels are for."""
	if doc.doctype == "Serial No":
		return [doc]
	if doc.doctype == "Batch":
		if not frappe.get_cached_value("Item", doc.item, "has_serial_no"):
			return [doc]
		serials = frappe.get_all(
			"Serial No", filters={"batch_no": doc.name}, pluck="name", order_by="creation, name"
		)
		if not serials:
			frappe.throw(
				_("Batch {0} of a serialised item has no serial numbers to label.").format(
					frappe.bold(doc.name)
				)
			)
		return [frappe.get_doc("Serial No", serial) for serial in serials]
	return stock_entry_records(doc)


def stock_entry_records(entry) -> list:
	"""The serials — or, for items without serial numbers, the batches — a stock entry brought in, of
	items that carry a UDI."""
	if entry.docstatus != 1 or entry.purpose not in PRODUCING_PURPOSES:
		frappe.throw(
			_("Labels are printed for what a submitted stock entry of purpose {0} produced.").format(
				", ".join(_(purpose) for purpose in sorted(PRODUCING_PURPOSES))
			),
			title=_("Nothing to Label"),
		)
	query, Bundle, Entry = bundle_entries()
	rows = (
		query.select(Bundle.item_code, Entry.serial_no, Entry.batch_no)
		.where(
			(Bundle.voucher_type == entry.doctype)
			& (Bundle.voucher_no == entry.name)
			& (Bundle.type_of_transaction == "Inward")
		)
		.orderby(Bundle.creation)
		.orderby(Entry.idx)
		.run(as_dict=True)
	)
	items = list({row.item_code for row in rows})
	labelled_items = (
		set(
			frappe.get_all(
				"UDI Device Identifier", filters={"item": ("in", items), "status": "Released"}, pluck="item"
			)
		)
		if items
		else set()
	)
	records = {}
	for row in rows:
		if row.item_code not in labelled_items:
			continue
		key = ("Serial No", row.serial_no) if row.serial_no else ("Batch", row.batch_no)
		if key[1] and key not in records:
			records[key] = frappe.get_doc(*key)
	if not records:
		frappe.throw(
			_(
				"Stock Entry {0} produced no batches or serial numbers of items with a released UDI-DI."
			).format(frappe.bold(entry.name)),
			title=_("Nothing to Label"),
		)
	return list(records.values())


def label_print_format(doctype: str, print_format: str | None) -> "frappe.Document":
	"""The requested format for records of its doctype, MedTrace's for the others (a stock entry's labels
	may be of serial numbers and of batches)."""
	if print_format and frappe.db.get_value("Print Format", print_format, "doc_type") == doctype:
		return frappe.get_cached_doc("Print Format", print_format)
	return frappe.get_cached_doc("Print Format", LABEL_PRINT_FORMATS[doctype])


def render_labels_pdf(records: list, copies: int, print_format: str | None = None) -> bytes:
	"""One label per page, each `copies` times, in one PDF."""
	from frappe.utils.pdf import get_pdf
	from frappe.www.printview import get_print_style, get_rendered_template

	pages, styles = [], {}
	for record in records:
		format_doc = label_print_format(record.doctype, print_format)
		styles.setdefault(format_doc.name, get_print_style(print_format=format_doc))
		html = get_rendered_template(record, print_format=format_doc, meta=record.meta, no_letterhead=1)
		pages.extend([html] * copies)
	html = frappe.render_template(
		"medtrace/templates/print_formats/udi_labels_pdf.html",
		{
			"body": "".join(pages),
			"print_style": "\n".join(styles.values()),
			"pdf_zoom": pdf_zoom(),
			"lang": frappe.local.lang,
		},
	)
	return get_pdf(html)


@frappe.whitelist(methods=["POST"])
def download_labels(doctype: str, name: str, copies: int = 1, print_format: str | None = None) -> None:
	"""The UDI labels of a Batch (each of its serial numbers when the item is serialised), a Serial No or
	a Stock Entry (what it produced) as one PDF, one label per page, and logged."""
	if doctype not in ("Batch", "Serial No", "Stock Entry"):
		frappe.throw(
			_("UDI labels are printed for a Batch, a Serial No or a Stock Entry, not {0}.").format(_(doctype))
		)
	if not frappe.db.exists(doctype, name):
		frappe.throw(
			_("{0} {1} does not exist.").format(_(doctype), frappe.bold(name)), frappe.DoesNotExistError
		)
	doc = frappe.get_doc(doctype, name)
	if not all(frappe.has_permission(doctype, ptype, doc=doc) for ptype in ("read", "print")):
		frappe.throw(
			_("You need permission to read and print {0} {1} to print its labels.").format(
				_(doctype), frappe.bold(name)
			),
			frappe.PermissionError,
		)
	copies = cint(copies)
	if not 1 <= copies <= MAX_COPIES:
		frappe.throw(_("Copies must be between 1 and {0}.").format(MAX_COPIES), title=_("Invalid Copies"))
	if (
		print_format
		and frappe.db.get_value("Print Format", print_format, "doc_type") not in LABEL_PRINT_FORMATS
	):
		frappe.throw(
			_("Print Format {0} is not a label format for Batch or Serial No.").format(
				frappe.bold(print_format)
			),
			title=_("Invalid Print Format"),
		)
	records = records_to_label(doc)
	if len(records) * copies > MAX_LABELS_PER_PDF:
		frappe.throw(
			_("{0} labels are more than one PDF may hold ({1}); print fewer copies.").format(
				len(records) * copies, MAX_LABELS_PER_PDF
			),
			title=_("Too Many Labels"),
		)
	with collected_labels() as labels:
		pdf = render_labels_pdf(records, copies, print_format)
	used_format = print_format or LABEL_PRINT_FORMATS[records[0].doctype]
	log_label_print(doctype, name, used_format, labels, copies, printed_from="Label Download")
	frappe.local.response.filename = f"{name}-udi-labels.pdf"
	frappe.local.response.filecontent = pdf
	frappe.local.response.type = "pdf"
