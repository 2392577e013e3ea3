"""WMS messages about packages (wms.pack.v1, wms.unpack.v1), and what a scanned package stands for in the
other WMS messages: every serial number and lot quantity packed inside it (wms.pick.v1, wms.transfer.v1).
The checks run when the message arrives and again before it is processed, as for every message."""

import frappe
from frappe import _
from frappe.utils import flt

from medtrace.packaging.packing import (
	LIVE,
	check_capacity,
	check_listed_once,
	content_to_pack,
	contents_from_scans,
	content_to_remove,
	pack,
	package_units,
	remove,
)
from medtrace.packaging.scan import find_package, package_scan_error
from medtrace.packaging.sscc import validate_sscc


def reject(message: str) -> None:
	frappe.throw(message, frappe.ValidationError, title=_("Message Rejected"))


def message_reference(system, message_id: str) -> frappe._dict:
	return frappe._dict(doctype="Integration Message", name=f"{system.name}:{message_id}")


def pack_warehouse(message, system) -> str:
	warehouse = message.warehouse or system.default_warehouse
	if not warehouse:
		reject(_("No warehouse was sent, and system {0} has no default warehouse.").format(system.name))
	if frappe.db.get_value("Warehouse", warehouse, "company") != system.company:
		reject(_("Warehouse {0} does not exist or does not belong to {1}.").format(warehouse, system.company))
	return warehouse


def target_package(message, system) -> frappe._dict:
	"""The package packed into: an existing one by its SSCC, else the one the message creates (not yet saved)."""
	warehouse = pack_warehouse(message, system)
	existing = message.sscc and frappe.db.get_value(
		"Package", {"sscc": message.sscc}, ["name", "status", "warehouse", "udi_device_identifier"], as_dict=True
	)
	if existing:
		if existing.status not in LIVE or existing.warehouse != warehouse:
			reject(_("Package {0} is {1} in {2}; it cannot be packed into in {3}.").format(existing.name, _(existing.status), existing.warehouse, warehouse))
		return frappe.get_doc("Package", existing.name)
	if message.sscc:
		validate_sscc(message.sscc)
	if message.udi_device_identifier and not frappe.db.exists("UDI Device Identifier", message.udi_device_identifier):
		reject(_("Unknown UDI-DI {0}.").format(frappe.bold(message.udi_device_identifier)))
	return frappe._dict(name=None, warehouse=warehouse, contents=[], udi_device_identifier=message.udi_device_identifier)


def check_pack(message, system) -> None:
	package = target_package(message, system)
	items = [content_to_pack(package, content) for content in contents_from_scans([line.model_dump() for line in message.lines])]
	check_listed_once(package, items)
	check_capacity(package, items)


def apply_pack(message, system, message_id: str) -> list:
	package = target_package(message, system)
	if not package.name:
		package = frappe.get_doc(
			{
				"doctype": "Package",
				"packaging_level": message.packaging_level,
				"identified_by": "SSCC and Package UDI" if message.udi_device_identifier else "SSCC",
				"sscc": message.sscc,
				"udi_device_identifier": message.udi_device_identifier,
				"company": system.company,
				"warehouse": package.warehouse,
			}
		).insert()
	contents = contents_from_scans([line.model_dump() for line in message.lines])
	event = pack(package.name, contents, message_reference(system, message_id))
	return [frappe.get_doc("Package", package.name), event]


def unpacked_package(message) -> "frappe.Document":
	name = find_package(message.package)
	if not name:
		reject(package_scan_error(message.package) or _("{0} is not a package MedTrace knows.").format(frappe.bold(message.package)))
	package = frappe.get_doc("Package", name)
	if package.status not in LIVE or not package.contents:
		reject(_("Package {0} is {1}; there is nothing in it to take out.").format(name, _(package.status)))
	return package


def removed_contents(message) -> list[dict] | None:
	if not message.lines:
		return None
	contents = []
	for line in message.lines:
		child = find_package(line.udi)
		contents += [{"package": child}] if child else contents_from_scans([line.model_dump()])
	return contents


def check_unpack(message, system) -> None:
	package = unpacked_package(message)
	for content in removed_contents(message) or []:
		content_to_remove(package, content)


def apply_unpack(message, system, message_id: str) -> list:
	package = unpacked_package(message)
	event = remove(package.name, removed_contents(message), message_reference(system, message_id))
	return [frappe.get_doc("Package", package.name), event]


def package_stock_lines(index: int, name: str) -> list[frappe._dict]:
	"""A scanned package as the lines of a pick or transfer: one per serial number and lot inside, each naming
	the package so the document moves or ships it whole (medtrace.packaging.shipping)."""
	package = frappe.db.get_value("Package", name, ["status", "parent_package"], as_dict=True)
	if package.status != "Packed":
		reject(_("Line {0}: package {1} is {2}.").format(index, name, _(package.status)))
	if package.parent_package:
		reject(_("Line {0}: package {1} is inside package {2}; scan {2}, or unpack it first.").format(index, name, package.parent_package))
	return [
		frappe._dict(index=index, item=unit.item_code, batch_no=unit.batch_no, serial_no=unit.serial_no, qty=flt(unit.qty),
		             named=name, package=name)
		for unit in package_units(name)
	]
