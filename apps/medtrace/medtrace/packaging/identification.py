"""How a package is identified — its SSCC and/or packaging-level UDI — and which of its fields only packing
(medtrace.packaging.packing) may change, whatever the Desk form or a REST client sends."""

import re

import frappe
from biip.checksums import gs1_standard_check_digit
from frappe import _

from medtrace.packaging.sscc import next_sscc, validate_sscc
from medtrace.udi.coding_rules import advance_sequence
from medtrace.udi.udi_codes import ProductionIdentifiers, gs1_udi

PACKAGE_SERIAL_COUNTER_PREFIX = "MEDTRACE-PACKAGE-"
PACKAGE_SERIAL_DIGITS = 8
# Kept by packing: what is inside, where it went, and what the label's summary says of it.
PACKED_FIELDS = (
	"status", "broken_open", "parent_package", "customer", "delivery_note",
	"total_units", "content_item", "content_gtin", "content_lot", "content_expiry_date",
)
CONTENT_COLUMNS = ("content_type", "item_code", "batch_no", "serial_no", "child_package", "qty")


def assign_package_identifiers(package) -> None:
	check_company(package)
	if package.udi_device_identifier:
		check_packaging_di(package)
	if "SSCC" in package.identified_by:
		if package.sscc:
			# A WMS may label with SSCCs of its own range; MedTrace keeps them once checked.
			validate_sscc(package.sscc)
			if frappe.db.exists("Package", {"sscc": package.sscc}):
				frappe.throw(_("SSCC {0} is already a package's.").format(frappe.bold(package.sscc)), frappe.DuplicateEntryError)
		else:
			package.sscc = next_sscc()
	else:
		package.sscc = None
	if "Package UDI" in package.identified_by:
		if not package.udi_device_identifier:
			frappe.throw(
				_("A package identified by its UDI needs a packaging-level UDI-DI."), title=_("No Packaging UDI-DI")
			)
		serial = advance_sequence(f"{PACKAGE_SERIAL_COUNTER_PREFIX}{package.udi_device_identifier}", 1)
		package.package_serial = str(serial).zfill(PACKAGE_SERIAL_DIGITS)
		package.package_udi = gs1_udi(
			package.udi_device_identifier, ProductionIdentifiers(serial=package.package_serial)
		).human_readable


def check_company(package) -> None:
	warehouse_company = frappe.db.get_value("Warehouse", package.warehouse, "company")
	package.company = package.company or warehouse_company
	if warehouse_company != package.company:
		frappe.throw(
			_("Warehouse {0} does not belong to {1}.").format(frappe.bold(package.warehouse), package.company),
			title=_("Wrong Warehouse"),
		)


def check_packaging_di(package) -> None:
	di = frappe.db.get_value(
		"UDI Device Identifier", package.udi_device_identifier,
		["name", "status", "packaging_level", "issuing_agency"], as_dict=True,
	)
	if di.packaging_level == "Base Unit" or di.status != "Released" or di.issuing_agency != "GS1":
		frappe.throw(
			_("UDI-DI {0} must be a released GS1 UDI-DI of a packaging level (Inner Pack, Case or Pallet), not {1} {2}.").format(
				frappe.bold(di.name), _(di.status), _(di.packaging_level)
			),
			title=_("Not a Packaging UDI-DI"),
		)
	package.packaging_level = di.packaging_level


def guard_packed_fields(package) -> None:
	if package.flags.packing:
		return
	if package.is_new():
		if package.contents:
			frappe.throw(_("A new package is empty: pack into it with Pack."), title=_("Cannot Pack"))
		package.status = "Empty"
		for field in PACKED_FIELDS[1:]:
			package.set(field, None)
		return
	before = package.get_doc_before_save()
	changed = [package.meta.get_label(field) for field in PACKED_FIELDS if str(package.get(field) or "") != str(before.get(field) or "")]
	if content_rows(package) != content_rows(before):
		changed.append(_("Contents"))
	if package.warehouse != before.warehouse and before.status != "Empty":
		changed.append(package.meta.get_label("warehouse"))
	if changed:
		frappe.throw(
			_("{0} of package {1} change only by packing, unpacking, moving or shipping it.").format(
				", ".join(_(label) for label in changed), frappe.bold(package.name)
			),
			title=_("Cannot Change Package"),
		)


def content_rows(package) -> list[tuple]:
	return [tuple(str(row.get(column) or "") for column in CONTENT_COLUMNS) for row in package.contents]


def validate_gln(doc, method=None) -> None:
	"""validate of Company, Supplier, Customer and Warehouse: a GLN names the party or place in EPCIS events, so
	a mistyped one would send partners to someone else."""
	gln = (doc.get("medtrace_gln") or "").strip()
	doc.medtrace_gln = gln or None
	if gln and not (re.fullmatch(r"\d{13}", gln) and gln[-1] == str(gs1_standard_check_digit(gln[:-1]))):
		frappe.throw(
			_("GLN {0} must be 13 digits ending in its GS1 check digit.").format(frappe.bold(gln)), title=_("Invalid GLN")
		)
	if gln and frappe.db.exists(doc.doctype, {"medtrace_gln": gln, "name": ("!=", doc.name)}):
		frappe.throw(_("GLN {0} is already {1}'s.").format(frappe.bold(gln), frappe.db.get_value(doc.doctype, {"medtrace_gln": gln}, "name")),
		             title=_("Invalid GLN"))
