"""Packing: serial numbers, lot quantities and packages put into and taken out of cases and pallets, each
change recorded as a Package Event (who, when, what, through which document) that outlives the package.

The rules every way of packing shares — the Desk's scans, a Stock Entry's output, the WMS messages — live
here: a unit is packed where it is in stock, into one live package at a time; a lot is packed up to what of
it is in the warehouse and not already packed; a package goes into another of the same warehouse, never
into itself or what it contains. A package leaves stock as a whole (its units on a Delivery Note or a
Stock Entry row naming it); a unit that leaves on its own is taken out of its package, which is then broken
open, so a recall knows which packages are still as labelled.
"""

import json

import frappe
from erpnext.stock.doctype.batch.batch import get_batch_qty
from frappe import _
from frappe.utils import cint, flt, now_datetime

from medtrace.packaging.scan import find_package, package_scan_error
from medtrace.udi.scan import ScanError, resolve_scan

LIVE = ("Empty", "Packed")
CONTENT_FIELDS = ("content_type", "item_code", "batch_no", "serial_no", "child_package", "qty")
# Stock vouchers whose rows may name the package they move (custom field medtrace_package).
PACKAGE_ROW_TABLES = {"Delivery Note": "items", "Stock Entry": "items"}


def refuse(message: str, title: str | None = None) -> None:
	frappe.throw(message, frappe.ValidationError, title=title or _("Cannot Pack"))


def qty_text(qty: float) -> str:
	return f"{flt(qty):g}"


# What is inside


def package_units(name: str) -> list[frappe._dict]:
	"""Every serial number and lot quantity inside the package, nested packages opened, one query per level."""
	units, level = [], [name]
	Content = frappe.qb.DocType("Package Content")
	while level:
		rows = (
			frappe.qb.from_(Content)
			.select(Content.parent, Content.content_type, Content.item_code, Content.batch_no, Content.serial_no,
			        Content.child_package, Content.qty)
			.where(Content.parent.isin(level) & (Content.parenttype == "Package"))
			.orderby(Content.parent).orderby(Content.idx)
			.run(as_dict=True)
		)
		units += [row for row in rows if row.content_type != "Package"]
		level = [row.child_package for row in rows if row.content_type == "Package"]
	return units


def nested_packages(name: str) -> list[str]:
	"""The packages inside, at any depth."""
	found, level = [], [name]
	while level:
		level = frappe.get_all("Package", filters={"parent_package": ("in", level)}, pluck="name", order_by="name")
		found += level
	return found


def package_path(name: str) -> list[str]:
	"""The package and those it is inside, innermost first (case, pallet)."""
	path = []
	while name and name not in path:
		path.append(name)
		name = frappe.db.get_value("Package", name, "parent_package")
	return path


def live_package_of(serial_no: str | None = None, batch_no: str | None = None, warehouse: str | None = None) -> list:
	"""The live packages a serial number (or a lot, in a warehouse) is directly packed in, with the quantity."""
	Content, Package = frappe.qb.DocType("Package Content"), frappe.qb.DocType("Package")
	query = (
		frappe.qb.from_(Content).join(Package).on(Package.name == Content.parent)
		.select(Package.name, Package.warehouse, Content.qty, Content.name.as_("row"))
		.where((Content.parenttype == "Package") & Package.status.isin(LIVE))
		.orderby(Package.creation, order=frappe.qb.desc)
	)
	if serial_no:
		query = query.where((Content.content_type == "Serial No") & (Content.serial_no == serial_no))
	else:
		query = query.where((Content.content_type == "Batch") & (Content.batch_no == batch_no))
		if warehouse:
			query = query.where(Package.warehouse == warehouse)
	return query.run(as_dict=True)


def packed_lot_qty(batch_no: str, warehouse: str) -> float:
	return sum(flt(row.qty) for row in live_package_of(batch_no=batch_no, warehouse=warehouse))


def refresh_summary(package) -> None:
	"""Units inside, and what the logistics label says of them: the one item, GTIN, lot and earliest expiry."""
	# From the rows as they are about to be saved, the packages inside as they are stored.
	units = [row for row in package.contents if row.content_type != "Package"]
	for row in package.contents:
		if row.content_type == "Package":
			units += package_units(row.child_package)
	package.total_units = sum(flt(unit.qty) for unit in units)
	items = {unit.item_code for unit in units}
	lots = {unit.batch_no for unit in units}
	package.content_item = items.pop() if len(items) == 1 else None
	package.content_gtin = package.content_item and frappe.db.get_value(
		"UDI Device Identifier",
		{"item": package.content_item, "packaging_level": "Base Unit", "status": "Released", "issuing_agency": "GS1"},
		"udi_di",
	)
	package.content_lot = lots.pop() if len(lots) == 1 and None not in lots else None
	lots_inside = [lot for lot in {unit.batch_no for unit in units} if lot]
	expiries = [date for date in frappe.get_all("Batch", filters={"name": ("in", lots_inside)}, pluck="expiry_date") if date] if lots_inside else []
	package.content_expiry_date = min(expiries) if expiries else None


# Changes


def save_package(package) -> None:
	package.flags.packing = True
	refresh_summary(package)
	package.save(ignore_permissions=True)


def record_event(package, event_type: str, items: list, reference=None, **values) -> "frappe.Document":
	event = frappe.get_doc(
		{
			"doctype": "Package Event",
			"package": package.name,
			"event_type": event_type,
			"event_time": now_datetime(),
			"user": frappe.session.user,
			"company": package.company,
			"warehouse": values.pop("warehouse", None) or package.warehouse,
			"reference_doctype": reference and reference.doctype,
			"reference_name": reference and reference.name,
			"items": [{field: item.get(field) for field in CONTENT_FIELDS} for item in items],
			**values,
		}
	)
	return event.insert(ignore_permissions=True)


def locked_package(name: str):
	if not frappe.db.exists("Package", name):
		refuse(_("Package {0} does not exist.").format(frappe.bold(name)))
	return frappe.get_doc("Package", name, for_update=True)


def pack(name: str, contents: list[dict], reference=None) -> "frappe.Document":
	"""Put serial numbers ({serial_no}), lot quantities ({batch_no, qty}) and packages ({package}) into the
	package; returns the Package Event."""
	package = locked_package(name)
	if package.status not in LIVE:
		refuse(_("Package {0} is {1}; pack into a new package.").format(frappe.bold(package.name), _(package.status)))
	if not contents:
		refuse(_("Nothing to pack into package {0}.").format(frappe.bold(package.name)))
	items = [content_to_pack(package, content) for content in contents]
	check_listed_once(package, items)
	check_capacity(package, items)
	was_empty = package.status == "Empty"
	for item in items:
		existing = item.content_type == "Batch" and next(
			(row for row in package.contents if row.content_type == "Batch" and row.batch_no == item.batch_no), None
		)
		if existing:
			existing.qty = flt(existing.qty) + item.qty
		else:
			package.append("contents", {field: item.get(field) for field in CONTENT_FIELDS})
	package.status = "Packed"
	save_package(package)
	for item in items:
		if item.content_type == "Package":
			frappe.db.set_value("Package", item.child_package, "parent_package", package.name)
	refresh_ancestors(package)
	return record_event(package, "Pack" if was_empty else "Add", items, reference)


def content_to_pack(package, content: dict) -> frappe._dict:
	if content.get("package"):
		return child_package_to_pack(package, content["package"])
	if content.get("serial_no"):
		return serial_no_to_pack(package, content["serial_no"])
	if content.get("batch_no"):
		return lot_to_pack(package, content["batch_no"], flt(content.get("qty") or 1))
	refuse(_("Name a serial number, a lot or a package to pack."))


def serial_no_to_pack(package, serial_no: str) -> frappe._dict:
	serial = frappe.db.get_value("Serial No", serial_no, ["name", "item_code", "batch_no", "warehouse", "status"], as_dict=True)
	if not serial:
		refuse(_("Serial number {0} does not exist.").format(frappe.bold(serial_no)))
	if serial.warehouse != package.warehouse:
		refuse(
			_("Serial number {0} is not in warehouse {1} ({2}); a package holds what is in stock where it is.").format(
				frappe.bold(serial.name), package.warehouse, serial.warehouse or _(serial.status or "Inactive")
			)
		)
	inside = live_package_of(serial_no=serial.name)
	if inside:
		refuse(_("Serial number {0} is already in package {1}; remove it from there first.").format(frappe.bold(serial.name), inside[0].name))
	return frappe._dict(content_type="Serial No", item_code=serial.item_code, batch_no=serial.batch_no, serial_no=serial.name, qty=1)


def lot_to_pack(package, batch_no: str, qty: float) -> frappe._dict:
	item_code = frappe.db.get_value("Batch", batch_no, "item")
	if not item_code:
		refuse(_("Lot {0} does not exist.").format(frappe.bold(batch_no)))
	if frappe.get_cached_value("Item", item_code, "has_serial_no"):
		refuse(_("Item {0} has serial numbers: pack its serial numbers, not lot {1}.").format(item_code, frappe.bold(batch_no)))
	if qty <= 0:
		refuse(_("The quantity of lot {0} to pack must be more than 0.").format(frappe.bold(batch_no)))
	loose = flt(get_batch_qty(batch_no=batch_no, warehouse=package.warehouse)) - packed_lot_qty(batch_no, package.warehouse)
	if qty > loose:
		refuse(
			_("Only {0} of lot {1} in warehouse {2} is not yet packed; {3} cannot be packed.").format(
				qty_text(max(loose, 0)), frappe.bold(batch_no), package.warehouse, qty_text(qty)
			)
		)
	return frappe._dict(content_type="Batch", item_code=item_code, batch_no=batch_no, qty=qty)


def child_package_to_pack(package, name: str) -> frappe._dict:
	child = frappe.db.get_value(
		"Package", name, ["name", "status", "warehouse", "parent_package", "content_item"], as_dict=True
	) or find_child_by_scan(name)
	if child.name in package_path(package.name):
		refuse(_("Package {0} cannot go into itself or into a package it contains.").format(frappe.bold(child.name)))
	if child.status != "Packed":
		refuse(_("Package {0} is {1}; only a packed package goes into another.").format(frappe.bold(child.name), _(child.status)))
	if child.parent_package:
		refuse(_("Package {0} is already in package {1}; remove it from there first.").format(frappe.bold(child.name), child.parent_package))
	if child.warehouse != package.warehouse:
		refuse(_("Package {0} is in warehouse {1}, not in {2}.").format(frappe.bold(child.name), child.warehouse, package.warehouse))
	return frappe._dict(content_type="Package", item_code=child.content_item, child_package=child.name, qty=1)


def find_child_by_scan(scan: str) -> frappe._dict:
	name = find_package(scan)
	if not name:
		refuse(_("Package {0} does not exist.").format(frappe.bold(scan)))
	return frappe.db.get_value("Package", name, ["name", "status", "warehouse", "parent_package", "content_item"], as_dict=True)


def check_listed_once(package, items: list) -> None:
	"""A serial number or package once per request, and a lot scanned several times in stock for the sum."""
	for field in ("serial_no", "child_package"):
		values = [item[field] for item in items if item.get(field)]
		twice = sorted({value for value in values if values.count(value) > 1})
		if twice:
			refuse(_("{0} is listed more than once.").format(", ".join(twice)))
	lots = {}
	for item in items:
		if item.content_type == "Batch":
			lots[item.batch_no] = lots.get(item.batch_no, 0) + item.qty
	for batch_no, qty in lots.items():
		lot_to_pack(package, batch_no, qty)


def check_capacity(package, items: list) -> None:
	"""A packaging-level UDI-DI is of one item and says how many of its contained level a package holds."""
	if not package.udi_device_identifier:
		return
	di = frappe.get_cached_doc("UDI Device Identifier", package.udi_device_identifier)
	for item in items:
		if item.item_code and item.item_code != di.item:
			refuse(
				_("Package {0} is labelled with UDI-DI {1} of item {2}; {3} is item {4}.").format(
					frappe.bold(package.name), di.name, di.item, item.serial_no or item.batch_no or item.child_package, item.item_code
				)
			)
	if cint(di.quantity_per_package):
		count = sum(flt(row.qty) for row in package.contents) + sum(flt(item.qty) for item in items)
		if count > cint(di.quantity_per_package):
			refuse(
				_("UDI-DI {0} holds {1}; package {2} would hold {3}.").format(
					di.name, di.quantity_per_package, frappe.bold(package.name), qty_text(count)
				)
			)


def refresh_ancestors(package) -> None:
	parent = package.parent_package
	while parent:
		doc = frappe.get_doc("Package", parent)
		save_package(doc)
		parent = doc.parent_package


def remove(name: str, contents: list[dict] | None = None, reference=None) -> "frappe.Document":
	"""Take contents out (all of them: unpack); the package, and those it is inside, are then broken open."""
	package = locked_package(name)
	if package.status not in LIVE or not package.contents:
		refuse(_("Package {0} is {1}; there is nothing in it to take out.").format(frappe.bold(package.name), _(package.status)))
	removed = [frappe._dict({field: row.get(field) for field in CONTENT_FIELDS}) for row in package.contents] if contents is None else [
		content_to_remove(package, content) for content in contents
	]
	for item in removed:
		row = matching_row(package, item)
		row.qty = flt(row.qty) - flt(item.qty)
		if row.qty <= 0:
			package.remove(row)
		if item.child_package:
			frappe.db.set_value("Package", item.child_package, "parent_package", None)
	unpacked = not package.contents
	package.status = "Unpacked" if unpacked else "Packed"
	package.broken_open = 1
	save_package(package)
	mark_ancestors_broken_open(package)
	event = record_event(package, "Unpack" if unpacked else "Remove", removed, reference)
	if unpacked and package.parent_package:
		# An emptied package no longer travels in the one it was in.
		remove(package.parent_package, [{"package": package.name}], reference)
	return event


def content_to_remove(package, content: dict) -> frappe._dict:
	if content.get("package"):
		name = frappe.db.exists("Package", content["package"]) and content["package"] or find_package(content["package"])
		item = frappe._dict(content_type="Package", child_package=name, qty=1)
	elif content.get("serial_no"):
		item = frappe._dict(content_type="Serial No", serial_no=content["serial_no"], qty=1)
	else:
		item = frappe._dict(content_type="Batch", batch_no=content.get("batch_no"), qty=flt(content.get("qty") or 1))
	row = matching_row(package, item)
	if not row or flt(row.qty) < flt(item.qty):
		refuse(
			_("Package {0} does not hold {1} {2}.").format(
				frappe.bold(package.name), qty_text(item.qty) if item.content_type == "Batch" else "",
				item.child_package or item.serial_no or item.batch_no or content.get("package"),
			),
			title=_("Not in the Package"),
		)
	item.update(item_code=row.item_code, batch_no=row.batch_no)
	return item


def matching_row(package, item):
	key = {"Package": "child_package", "Serial No": "serial_no", "Batch": "batch_no"}[item.content_type]
	return next((row for row in package.contents if row.content_type == item.content_type and row.get(key) == item.get(key)), None)


def mark_ancestors_broken_open(package) -> None:
	parent = package.parent_package
	while parent:
		doc = frappe.get_doc("Package", parent)
		doc.broken_open = 1
		save_package(doc)
		parent = doc.parent_package


# Scans from the Desk and the WMS


def contents_from_scans(scans: list) -> list[dict]:
	"""Scanned labels as contents: a package's SSCC or UDI, or a unit's UDI (a lot's label counts 1 unit
	unless a quantity is given)."""
	contents = []
	for index, entry in enumerate(scans, start=1):
		scan, qty = (entry.get("scan") or entry.get("udi"), entry.get("qty")) if isinstance(entry, dict) else (entry, None)
		if not isinstance(scan, str) or not scan.strip():
			refuse(_("Line {0}: nothing was scanned.").format(index))
		package = find_package(scan)
		if package:
			contents.append({"package": package})
			continue
		try:
			resolved = resolve_scan(scan)
		except ScanError as error:
			frappe.clear_last_message()
			refuse(_("Line {0}: {1}").format(index, error))
		if resolved.get("status") != "resolved" or not (resolved.get("serial_no") or resolved.get("batch")):
			refuse(_("Line {0}: {1}").format(index, package_scan_error(scan) or resolved.get("message") or _("not a unit or package MedTrace knows")))
		if resolved.get("serial_no"):
			contents.append({"serial_no": resolved["serial_no"]})
		else:
			contents.append({"batch_no": resolved["batch"], "qty": flt(qty) or 1})
	return contents


def parse_scans(scans) -> list:
	"""Scanned labels: a list, a JSON list, or text with one label a line."""
	if isinstance(scans, str) and scans.strip().startswith("["):
		try:
			scans = json.loads(scans)
		except ValueError:
			refuse(_("The scans are neither one label a line nor a JSON list of labels."))
	elif isinstance(scans, str):
		scans = [line for line in scans.splitlines() if line.strip()]
	if not isinstance(scans, list) or not scans:
		refuse(_("Scan at least one label."))
	return scans


def writable_package(name: str):
	if not isinstance(name, str) or not frappe.db.exists("Package", name):
		frappe.throw(_("Package {0} does not exist.").format(frappe.bold(name)), frappe.DoesNotExistError)
	frappe.has_permission("Package", "write", doc=name, throw=True)
	return name


@frappe.whitelist(methods=["POST"])
def pack_scans(package: str, scans) -> dict:
	"""The Desk's Pack: scanned units and packages into the package."""
	writable_package(package)
	event = pack(package, contents_from_scans(parse_scans(scans)))
	return {"package": package, "event": event.name, "units": frappe.db.get_value("Package", package, "total_units")}


@frappe.whitelist(methods=["POST"])
def remove_scans(package: str, scans) -> dict:
	"""The Desk's Remove: scanned units and packages out of the package."""
	writable_package(package)
	contents = []
	for entry in parse_scans(scans):
		scan = entry.get("scan") if isinstance(entry, dict) else entry
		child = find_package(scan)
		contents.append({"package": child} if child else unit_content(scan, entry.get("qty") if isinstance(entry, dict) else None))
	event = remove(package, contents)
	return {"package": package, "event": event.name}


def unit_content(scan: str, qty=None) -> dict:
	(content,) = contents_from_scans([{"scan": scan, "qty": qty}])
	return content


@frappe.whitelist(methods=["POST"])
def unpack_package(package: str) -> dict:
	"""Empty the package: everything taken out, the package kept (Unpacked) with its history."""
	event = remove(writable_package(package))
	return {"package": package, "event": event.name}
