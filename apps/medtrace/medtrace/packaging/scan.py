"""Scans of package labels: an SSCC (AI 00 in GS1-128, a Digital Link /00/…, or the 18 digits typed) or a
packaging-level UDI (a case or pallet UDI-DI in AI 01 with the package's serial number in AI 21), resolved
to the Package and everything nested inside it. UDI Scan asks here first (medtrace.udi.scan.resolve_scan)."""

import re

import frappe
from biip import ParseError, parse
from biip.gs1_digital_link_uris import GS1DigitalLinkURI
from biip.gs1_messages import GS1Message
from frappe import _

from medtrace.packaging.sscc import is_valid_sscc, sscc_check_digit

GROUP_SEPARATOR = "\x1d"
PLACEHOLDERS = ("<GS>", "{GS}", "^]")
SYMBOLOGY_IDENTIFIER = re.compile(r"^\][A-Za-z][0-9A-Za-z]")


def element_strings(scan: str) -> dict[str, str]:
	"""The scan's GS1 AIs and values, or {} when it is no GS1 code (the UDI scan explains those)."""
	text = scan.strip("\r\n\t ")
	for placeholder in PLACEHOLDERS:
		text = text.replace(placeholder, GROUP_SEPARATOR)
	payload = SYMBOLOGY_IDENTIFIER.sub("", text)
	try:
		if re.match(r"^https?://", payload, re.IGNORECASE):
			elements = GS1DigitalLinkURI.parse(payload).element_strings
		elif payload.startswith("("):
			elements = GS1Message.parse_hri(payload).element_strings
		elif payload.startswith("00") and len(payload) >= 20 and payload[2:20].isdigit():
			result = parse(text)
			elements = result.gs1_message.element_strings if result.gs1_message else []
		elif payload.startswith("01") and len(payload) >= 16:
			result = parse(text)
			elements = result.gs1_message.element_strings if result.gs1_message else []
		else:
			return {}
	except (ParseError, ValueError):
		return {}
	return {element.ai.ai: element.value for element in elements}


def package_keys(scan) -> tuple[str | None, str | None, str | None]:
	"""(SSCC, packaging UDI-DI, package serial) the scan names, as far as it names a package."""
	if not isinstance(scan, str) or not scan.strip():
		return None, None, None
	bare = scan.strip()
	if re.fullmatch(r"\d{18}", bare):
		return bare, None, None
	elements = element_strings(scan)
	if elements.get("00"):
		return elements["00"], None, None
	if elements.get("01") and elements.get("21"):
		return None, elements["01"], elements["21"]
	return None, None, None


def find_package(scan) -> str | None:
	"""The Package a scan (or a typed package name) names, if MedTrace has it."""
	sscc, di, serial = package_keys(scan)
	if sscc:
		return frappe.db.get_value("Package", {"sscc": sscc}, "name")
	if di:
		return frappe.db.get_value("Package", {"udi_device_identifier": di, "package_serial": serial}, "name")
	if isinstance(scan, str) and scan.strip() and frappe.db.exists("Package", scan.strip()):
		return scan.strip()
	return None


def package_scan_error(scan) -> str | None:
	"""Why a scan naming an SSCC does not resolve: a wrong check digit, or an SSCC MedTrace never gave."""
	sscc, _di, _serial = package_keys(scan)
	if not sscc:
		return None
	if not is_valid_sscc(sscc):
		return _("SSCC {0} has check digit {1}; it should be {2}. The label may be damaged or misprinted.").format(
			frappe.bold(sscc), sscc[-1], sscc_check_digit(sscc[:-1]) if sscc[:-1].isdigit() else "?"
		)
	return _("SSCC {0} is not a package MedTrace knows.").format(frappe.bold(sscc))


def package_tree(name: str) -> dict:
	"""The package and what is inside, nested as packed."""
	package = frappe.db.get_value(
		"Package", name,
		["name", "sscc", "package_udi", "packaging_level", "status", "broken_open", "warehouse", "customer", "total_units"],
		as_dict=True,
	)
	rows = frappe.get_all(
		"Package Content", filters={"parent": name, "parenttype": "Package"},
		fields=["content_type", "item_code", "batch_no", "serial_no", "child_package", "qty"], order_by="idx",
	)
	package.units = [row for row in rows if row.content_type != "Package"]
	package.packages = [package_tree(row.child_package) for row in rows if row.content_type == "Package"]
	return package


def resolve_package_scan(scan) -> dict | None:
	"""UDI Scan's answer for a package label; None when the scan names no package."""
	from medtrace.packaging.packing import package_path, package_units
	from medtrace.udi.scan import ScanError

	sscc, di, serial = package_keys(scan)
	name = find_package(scan) if (sscc or di) else None
	if not name:
		if not sscc:
			return None
		if not is_valid_sscc(sscc):
			frappe.throw(package_scan_error(scan), ScanError, title=_("Unreadable Scan"))
		return {"input_format": _("SSCC"), "status": "unknown", "message": package_scan_error(scan), "fields": [], "warnings": []}
	frappe.has_permission("Package", "read", doc=name, throw=True)
	package = frappe.get_doc("Package", name)
	units = package_units(name)
	warnings = []
	if package.broken_open:
		warnings.append(_("Package {0} was broken open: it no longer holds what its label says.").format(name))
	if package.status in ("Shipped", "Unpacked"):
		warnings.append(_("Package {0} is {1}.").format(name, _(package.status)))
	outer = package_path(name)[1:]
	if outer:
		warnings.append(_("Package {0} is inside package {1}.").format(name, " → ".join(outer)))
	fields = [{"key": "00", "label": "(00) SSCC", "value": package.sscc}] if package.sscc else []
	if package.package_udi:
		fields.append({"key": "package_udi", "label": _("Package UDI"), "value": package.package_udi})
	return {
		"input_format": _("SSCC") if sscc else _("Package UDI"),
		"status": "resolved",
		"message": _("Package {0} ({1}): {2} units inside.").format(name, _(package.packaging_level), f"{package.total_units:g}"),
		"fields": fields,
		"warnings": warnings,
		"package": name,
		"package_status": package.status,
		"packaging_level": package.packaging_level,
		"warehouse": package.warehouse,
		"customer": package.customer,
		"udi_device_identifier": package.udi_device_identifier,
		"item": package.content_item,
		"item_name": package.content_item and frappe.db.get_value("Item", package.content_item, "item_name"),
		"batch": None,
		"serial_no": None,
		"content_lot": package.content_lot,
		"contents": package_tree(name),
		"units": units,
	}
