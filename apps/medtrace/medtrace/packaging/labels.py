"""Package labels: the GS1 logistics label of a case or pallet (100 × 150 mm) and, on the same label, the
package UDI of a package that has one.

GS1 logistics label (GS1 General Specifications §6.6, GS1 Logistic Label Guideline): the SSCC as GS1-128
with AI 00 at the bottom, above it the content as GS1-128 — AI 02 (the GTIN of the trade items inside)
with AI 37 (how many), only when everything inside is of one GTIN — with AI 17 and AI 10 when everything
inside is of one lot; the same data in text. A package UDI (a packaging-level UDI-DI with the package's
serial number, and its lot and expiry when the DI's label carries them) is a GS1 DataMatrix. Symbols are
built, and prints logged in UDI Label Log, as for unit labels (medtrace.udi.labels)."""

from dataclasses import dataclass

import frappe
import zint
from frappe import _
from frappe.utils import cint, flt, formatdate

from medtrace.packaging.packing import nested_packages
from medtrace.udi.labels import (
	LinearSymbol,
	collected_labels,
	gs1_128_symbols,
	linear_symbols,
	log_label_print,
	pdf_zoom,
	qr_svg,
	zint_gs1_input,
	zint_svg,
	zint_symbol,
)
from medtrace.udi.udi_codes import UDICodes, gs1_raw_element_string

PRINT_FORMAT = "Package Label"
MAX_COPIES = 100


@dataclass(frozen=True)
class PackageLabel:
	name: str
	packaging_level: str
	company: str
	sscc: str | None
	content_text: list[tuple[str, str]]  # (title, value) printed above the barcodes
	content_linear: list[LinearSymbol]  # AI 02 + 37, 17, 10
	content_human_readable: str | None
	sscc_linear: list[LinearSymbol]  # AI 00
	sscc_qr: str | None  # the SSCC as a GS1 Digital Link
	udi_datamatrix: str | None  # the package UDI
	udi_human_readable: str | None
	codes: UDICodes  # what the label identifies, as UDI Label Log records it
	pdf_zoom: float
	standalone: bool


def content_elements(package) -> list[tuple[str, str]]:
	"""AI 02 + 37 (and 17, 10) of what is inside: the packages of one packaging UDI-DI inside a pallet, else the
	units of one item's GTIN; nothing when the contents are mixed or not whole units."""
	children = [row for row in package.contents if row.content_type == "Package"]
	gtin, count = None, 0
	if children and len(children) == len(package.contents):
		dis = {frappe.db.get_value("Package", row.child_package, "udi_device_identifier") for row in children}
		if len(dis) == 1 and None not in dis:
			gtin, count = dis.pop(), len(children)
	elif not children and package.content_gtin and flt(package.total_units) == cint(package.total_units):
		gtin, count = package.content_gtin, cint(package.total_units)
	if not gtin or not count:
		return []
	elements = [("02", gtin)]
	if package.content_lot and package.content_expiry_date:
		elements.append(("17", frappe.utils.getdate(package.content_expiry_date).strftime("%y%m%d")))
	elements.append(("37", str(count)))
	if package.content_lot:
		elements.append(("10", package.content_lot))
	return elements


def package_udi_elements(package) -> list[tuple[str, str]]:
	di = frappe.get_cached_doc("UDI Device Identifier", package.udi_device_identifier)
	elements = [("01", di.udi_di)]
	if di.label_expiry_date and package.content_lot and package.content_expiry_date:
		elements.append(("17", frappe.utils.getdate(package.content_expiry_date).strftime("%y%m%d")))
	if di.label_lot and package.content_lot:
		elements.append(("10", package.content_lot))
	elements.append(("21", package.package_serial))
	return elements


def hri(elements: list[tuple[str, str]]) -> str:
	return "".join(f"({ai}){value}" for ai, value in elements)


def make_package_label(package, standalone: bool = True) -> PackageLabel:
	if package.status == "Empty":
		frappe.throw(_("Package {0} is empty: pack it before printing its label.").format(frappe.bold(package.name)), title=_("Nothing to Label"))
	domain = frappe.db.get_single_value("MedTrace Settings", "digital_link_domain") or "id.gs1.org"
	content = content_elements(package)
	udi = package_udi_elements(package) if package.package_udi else []
	try:
		sscc_linear = linear_symbols(gs1_128_symbols([("00", package.sscc)])) if package.sscc else []
		content_linear = linear_symbols(gs1_128_symbols(content)) if content else []
		udi_datamatrix = zint_svg(zint_symbol(zint.Symbology.DATAMATRIX, zint_gs1_input(udi), gs1=True)) if udi else None
	except RuntimeError as error:
		frappe.throw(_("The label of package {0} cannot be encoded: {1}").format(package.name, error), title=_("Invalid Label"))
	identifying = [("00", package.sscc)] if package.sscc else udi
	values = dict(content)
	text = [(_("SSCC"), package.sscc)] if package.sscc else []
	if package.content_item:
		text.append((_("Content"), f"{values.get('02') or ''} {frappe.get_cached_value('Item', package.content_item, 'item_name')}".strip()))
	text.append((_("Count"), values.get("37") or f"{flt(package.total_units):g}"))
	if package.content_lot:
		text.append((_("Batch/Lot"), package.content_lot))
	if package.content_expiry_date:
		text.append((_("Use by"), formatdate(package.content_expiry_date, "yyyy-MM-dd")))
	return PackageLabel(
		name=package.name,
		packaging_level=package.packaging_level,
		company=package.company,
		sscc=package.sscc,
		content_text=text,
		content_linear=content_linear,
		content_human_readable=hri(content) if content else None,
		sscc_linear=sscc_linear,
		sscc_qr=qr_svg(f"https://{domain}/00/{package.sscc}") if package.sscc else None,
		udi_datamatrix=udi_datamatrix,
		udi_human_readable=hri(udi) if udi else None,
		codes=UDICodes(
			carrier=gs1_raw_element_string(identifying), human_readable=hri(identifying), production_identifier="",
			digital_link=f"https://{domain}/00/{package.sscc}" if package.sscc else None,
		),
		pdf_zoom=pdf_zoom(),
		standalone=standalone,
	)


def package_label(doc) -> PackageLabel:
	"""Jinja method of the Package Label print format; logs prints of the Desk's print view and PDFs as
	medtrace.udi.labels.udi_label does."""
	collected = getattr(frappe.local, "medtrace_collected_labels", None)
	label = make_package_label(doc, standalone=collected is None)
	if collected is not None:
		collected.append(label)
	elif frappe.form_dict.get("doctype") == doc.doctype and frappe.form_dict.get("name") == doc.name:
		log_label_print(doc.doctype, doc.name, frappe.form_dict.get("format") or PRINT_FORMAT, [label], copies=1, printed_from="Print View")
	return label


def render_package_labels_pdf(packages: list, copies: int) -> bytes:
	from frappe.utils.pdf import get_pdf
	from frappe.www.printview import get_rendered_template

	format_doc = frappe.get_cached_doc("Print Format", PRINT_FORMAT)
	pages = []
	for package in packages:
		html = get_rendered_template(package, print_format=format_doc, meta=package.meta, no_letterhead=1)
		pages.extend([html] * copies)
	html = frappe.render_template(
		"medtrace/templates/print_formats/package_labels_pdf.html",
		{"body": "".join(pages), "pdf_zoom": pdf_zoom(), "lang": frappe.local.lang},
	)
	return get_pdf(html)


@frappe.whitelist(methods=["POST"])
def download_package_labels(name: str, copies: int = 1, nested: int = 0) -> None:
	"""The package's logistics label as a PDF — with the labels of the packages inside it when `nested` —
	logged in UDI Label Log."""
	if not isinstance(name, str) or not frappe.db.exists("Package", name):
		frappe.throw(_("Package {0} does not exist.").format(frappe.bold(name)), frappe.DoesNotExistError)
	package = frappe.get_doc("Package", name)
	if not all(frappe.has_permission("Package", ptype, doc=package) for ptype in ("read", "print")):
		frappe.throw(_("You need permission to read and print package {0} to print its label.").format(frappe.bold(name)), frappe.PermissionError)
	copies = cint(copies)
	if not 1 <= copies <= MAX_COPIES:
		frappe.throw(_("Copies must be between 1 and {0}.").format(MAX_COPIES), title=_("Invalid Copies"))
	packages = [package] + ([frappe.get_doc("Package", child) for child in nested_packages(name)] if cint(nested) else [])
	with collected_labels() as labels:
		pdf = render_package_labels_pdf(packages, copies)
	log_label_print("Package", name, PRINT_FORMAT, labels, copies, printed_from="Label Download")
	frappe.local.response.filename = f"{name}-label.pdf"
	frappe.local.response.filecontent = pdf
	frappe.local.response.type = "pdf"
