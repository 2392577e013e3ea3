"""Packages on stock documents: a Delivery Note filled by scanning packages ships them, a Material Transfer
naming them moves them, and a unit that leaves stock on its own (on either, or on a Sales Invoice that
updates stock) is taken out of its package.

A row of a Delivery Note or Stock Entry names the outermost package it belongs to (custom field
`medtrace_package`): the rows' serial numbers and lot quantities are the package's units, so ERPNext moves
real stock and every gate on those documents — recall holds, the DHR release gate — applies to each unit
inside. On submit the rows of a package must still be exactly its contents."""

from collections import defaultdict

import frappe
from erpnext.stock.doctype.batch.batch import get_batch_qty
from frappe import _
from frappe.utils import flt

from medtrace.packaging.packing import (
	live_package_of,
	nested_packages,
	package_units,
	packed_lot_qty,
	parse_scans,
	record_event,
	remove,
	save_package,
)
from medtrace.packaging.scan import find_package, package_scan_error
from medtrace.utils.bundles import bundle_entries
from medtrace.utils.filters import checked_object


def refuse(message: str) -> None:
	frappe.throw(message, frappe.ValidationError, title=_("Package"))


def shippable_package(scan: str, index: int) -> "frappe.Document":
	name = find_package(scan)
	if not name:
		refuse(_("Line {0}: {1}").format(index, package_scan_error(scan) or _("{0} is not a package MedTrace knows.").format(frappe.bold(scan))))
	package = frappe.get_doc("Package", name)
	if package.status != "Packed":
		refuse(_("Line {0}: package {1} is {2}.").format(index, frappe.bold(name), _(package.status)))
	if package.parent_package:
		refuse(
			_("Line {0}: package {1} is inside package {2}: scan {2}, or take {1} out of it first.").format(
				index, frappe.bold(name), package.parent_package
			)
		)
	return package


def package_rows(package, **row) -> list[dict]:
	"""Document rows carrying the package's units through the rows' own serial / lot fields: one row per
	item and lot, serial numbers listed in it."""
	grouped = {}
	for unit in package_units(package.name):
		key = (unit.item_code, unit.batch_no)
		entry = grouped.setdefault(key, {"qty": 0, "serial_nos": []})
		entry["qty"] += flt(unit.qty)
		if unit.serial_no:
			entry["serial_nos"].append(unit.serial_no)
	return [
		{
			"item_code": item_code,
			"qty": entry["qty"],
			"batch_no": None if entry["serial_nos"] else batch_no,
			"serial_no": "\n".join(entry["serial_nos"]) or None,
			"use_serial_batch_fields": 1,
			"medtrace_package": package.name,
			**row,
		}
		for (item_code, batch_no), entry in grouped.items()
	]


@frappe.whitelist(methods=["POST"])
def add_packages_to_delivery_note(delivery_note, scans) -> dict:
	"""The Desk's scan-to-ship: each scanned package's units become rows of the draft Delivery Note, which is
	returned to the form unsaved, as ERPNext's own "Get Items From" does."""
	values = checked_object(delivery_note, _("Delivery Note"))
	if values.get("doctype") != "Delivery Note":
		refuse(_("Send the Delivery Note the packages are added to."))
	note = frappe.get_doc(values)
	exists = bool(note.name) and frappe.db.exists("Delivery Note", note.name)
	if not frappe.has_permission("Delivery Note", "write" if exists else "create", doc=note if exists else None):
		frappe.throw(_("You need permission to edit Delivery Notes to add packages."), frappe.PermissionError)
	if note.docstatus != 0:
		refuse(_("Delivery Note {0} is submitted; add packages to a draft.").format(note.name))
	on_note = {row.medtrace_package for row in note.items if row.get("medtrace_package")}
	for index, scan in enumerate(parse_scans(scans), start=1):
		package = shippable_package(scan if isinstance(scan, str) else scan.get("scan"), index)
		if package.name in on_note:
			refuse(_("Line {0}: package {1} is already on this Delivery Note.").format(index, package.name))
		if note.company and package.company != note.company:
			refuse(_("Line {0}: package {1} belongs to {2}, not to {3}.").format(index, package.name, package.company, note.company))
		on_note.add(package.name)
		for row in package_rows(package, warehouse=package.warehouse):
			note.append("items", row)
	# Rows added by scanning have no price yet; ERPNext fills rates and the rest from the item as for a typed row.
	note.run_method("set_missing_values")
	return note.as_dict()


# Stock documents submitted and cancelled


def voucher_movements(doc) -> list[frappe._dict]:
	"""Each serial number and lot quantity the document took out of a warehouse, with its row's package."""
	package_of_row = {row.name: row.get("medtrace_package") for row in doc.items}
	query, Bundle, Entry = bundle_entries()
	rows = (
		query.select(Bundle.voucher_detail_no, Entry.serial_no, Entry.batch_no, Entry.qty, Entry.warehouse)
		.where((Bundle.voucher_type == doc.doctype) & (Bundle.voucher_no == doc.name) & (Bundle.type_of_transaction == "Outward"))
		.run(as_dict=True)
	)
	for row in rows:
		row.package = package_of_row.get(row.voucher_detail_no)
		row.qty = abs(flt(row.qty))
	return rows


def on_stock_voucher_submit(doc, method=None) -> None:
	"""Packages named on the rows ship (Delivery Note) or move (Material Transfer) whole; units leaving
	without their package are taken out of it."""
	if doc.get("is_return"):
		return
	movements = voucher_movements(doc)
	by_package = defaultdict(list)
	for movement in movements:
		if movement.package:
			by_package[movement.package].append(movement)
	for name, moved in sorted(by_package.items()):
		check_moves_whole(name, moved)
		if doc.doctype == "Delivery Note":
			ship_package(name, doc)
		else:
			move_package(name, doc)
	take_out_loose_units(doc, [movement for movement in movements if not movement.package])


def check_moves_whole(name: str, moved: list) -> None:
	package = frappe.get_doc("Package", name)
	if package.status != "Packed" or package.parent_package:
		refuse(_("Package {0} is {1}{2}; it cannot leave as a whole.").format(
			name, _(package.status), _(" and inside package {0}").format(package.parent_package) if package.parent_package else ""))
	elsewhere = sorted({movement.warehouse for movement in moved} - {package.warehouse})
	if elsewhere:
		refuse(_("Package {0} is in warehouse {1}, not in {2}.").format(frappe.bold(name), package.warehouse, ", ".join(elsewhere)))
	if unit_totals(package_units(name)) != unit_totals(moved):
		refuse(
			_("The rows of package {0} are no longer its contents; remove them and scan the package again.").format(frappe.bold(name))
		)


def unit_totals(units) -> dict:
	totals = defaultdict(float)
	for unit in units:
		totals[unit.serial_no or unit.batch_no] += flt(unit.qty)
	return {key: round(qty, 6) for key, qty in totals.items()}


def set_nested(name: str, values: dict) -> None:
	for each in [name, *nested_packages(name)]:
		package = frappe.get_doc("Package", each)
		package.update(values)
		save_package(package)


def ship_package(name: str, note) -> None:
	warehouse = frappe.db.get_value("Package", name, "warehouse")
	set_nested(name, {"status": "Shipped", "customer": note.customer, "delivery_note": note.name})
	package = frappe.get_doc("Package", name)
	record_event(package, "Ship", [], note, warehouse=warehouse, customer=note.customer)


def move_package(name: str, entry) -> None:
	targets = {row.t_warehouse for row in entry.items if row.get("medtrace_package") == name}
	if entry.purpose != "Material Transfer" or len(targets) != 1 or None in targets:
		refuse(_("Package {0} moves whole only by a Material Transfer to one warehouse.").format(frappe.bold(name)))
	(target,) = targets
	set_nested(name, {"warehouse": target})
	record_event(frappe.get_doc("Package", name), "Move", [], entry, warehouse=target)


def take_out_loose_units(doc, loose: list) -> None:
	"""A serial number that left on its own leaves its package; a lot's packed quantity is cut to what of it
	is still in the warehouse, newest package first."""
	for movement in loose:
		if movement.serial_no:
			for inside in live_package_of(serial_no=movement.serial_no):
				remove(inside.name, [{"serial_no": movement.serial_no}], doc)
	for batch_no, warehouse in sorted({(m.batch_no, m.warehouse) for m in loose if m.batch_no and not m.serial_no}):
		excess = packed_lot_qty(batch_no, warehouse) - flt(get_batch_qty(batch_no=batch_no, warehouse=warehouse))
		for inside in live_package_of(batch_no=batch_no, warehouse=warehouse):
			if excess <= 0:
				break
			taken = min(excess, flt(inside.qty))
			remove(inside.name, [{"batch_no": batch_no, "qty": taken}], doc)
			excess -= taken


def on_stock_voucher_cancel(doc, method=None) -> None:
	"""Packages this document shipped or moved are back where they were."""
	events = frappe.get_all(
		"Package Event",
		filters={"reference_doctype": doc.doctype, "reference_name": doc.name, "event_type": ("in", ("Ship", "Move"))},
		fields=["package", "event_type"],
	)
	for event in events:
		if event.event_type == "Ship":
			warehouse = frappe.db.get_value("Package", event.package, "warehouse")
			set_nested(event.package, {"status": "Packed", "customer": None, "delivery_note": None})
			record_event(frappe.get_doc("Package", event.package), "Cancel Shipment", [], doc, warehouse=warehouse)
		else:
			source = next(row.s_warehouse for row in doc.items if row.get("medtrace_package") == event.package)
			set_nested(event.package, {"warehouse": source})
			record_event(frappe.get_doc("Package", event.package), "Move", [], doc, warehouse=source)
