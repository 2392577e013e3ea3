"""UDI on ERPNext's Batch and Serial No: which DI applies, consistency of the production identifiers,
and the computed UDI fields (UDI-PI, element string, Digital Link)."""

import frappe
from frappe import _
from frappe.query_builder import DocType
from frappe.utils import getdate

from medtrace.audit.audit_trail import db_update_tracked
from medtrace.udi.identifiers import validate_gs1_production_identifier
from medtrace.udi.udi_codes import ProductionIdentifiers, UDICodes, gs1_udi, hibc_udi
from medtrace.utils.bundles import bundle_entries

HIBC_PI_CHARACTERS = set("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-. ")
UDI_FIELDS = ("udi_pi", "udi_element_string", "udi_digital_link")


def default_device_identifier(item_code: str) -> str | None:
	"""The item's released base-unit DI: what its batches and serials carry unless told otherwise."""
	return frappe.db.get_value(
		"UDI Device Identifier",
		{"item": item_code, "packaging_level": "Base Unit", "status": "Released"},
		"name",
	)


def digital_link_domain() -> str:
	return frappe.db.get_single_value("MedTrace Settings", "digital_link_domain") or "id.gs1.org"


def build_udi_codes(device_identifier, pi: ProductionIdentifiers) -> UDICodes:
	validate_production_identifiers(device_identifier, pi)
	pi = labelled_identifiers(device_identifier, pi)
	if device_identifier.issuing_agency == "HIBCC":
		return hibc_udi(device_identifier.udi_di, pi)
	if device_identifier.issuing_agency == "GS1":
		return gs1_udi(device_identifier.udi_di, pi, digital_link_domain())
	frappe.throw(
		_("MedTrace cannot yet encode UDIs of issuing agency {0}.").format(device_identifier.issuing_agency),
		title=_("Unsupported Issuing Agency"),
	)


def labelled_identifiers(device_identifier, pi: ProductionIdentifiers) -> ProductionIdentifiers:
	"""Only the production identifiers the DI's label is configured to carry go into its UDI."""
	return ProductionIdentifiers(
		lot=pi.lot if device_identifier.label_lot else None,
		serial=pi.serial if device_identifier.label_serial else None,
		manufacture_date=pi.manufacture_date if device_identifier.label_manufacture_date else None,
		expiry_date=pi.expiry_date if device_identifier.label_expiry_date else None,
	)


def validate_production_identifiers(device_identifier, pi: ProductionIdentifiers) -> None:
	"""A batch carries the lot-level UDI and a serial number the unit-level one; whether the item is
	serialised at all is checked on the DI itself."""
	di = frappe.bold(device_identifier.udi_di)
	required = (
		(device_identifier.label_lot, pi.lot, _("a lot / batch number")),
		(device_identifier.label_expiry_date, pi.expiry_date, _("an expiry date")),
		(device_identifier.label_manufacture_date, pi.manufacture_date, _("a manufacturing date")),
	)
	for is_required, value, what in required:
		if is_required and not value:
			frappe.throw(_("UDI-DI {0} requires {1} on its label.").format(di, what), title=_("Missing UDI Data"))
	if pi.manufacture_date and pi.expiry_date and getdate(pi.expiry_date) <= getdate(pi.manufacture_date):
		frappe.throw(
			_("Expiry date {0} must be after manufacturing date {1}.").format(pi.expiry_date, pi.manufacture_date),
			title=_("Invalid UDI Dates"),
		)
	for value, label in ((pi.lot, _("Lot")), (pi.serial, _("Serial number"))):
		if not value:
			continue
		if device_identifier.issuing_agency == "HIBCC":
			validate_hibc_production_identifier(value, label)
		else:
			validate_gs1_production_identifier(value, label)


def validate_hibc_production_identifier(value: str, label: str) -> None:
	if len(value) > 18 or not set(value) <= HIBC_PI_CHARACTERS:
		frappe.throw(
			_("{0} {1} must be at most 18 upper-case letters, digits, '-', '.' or spaces for an HIBC label.").format(
				label, frappe.bold(value)
			),
			title=_("Invalid Production Identifier"),
		)


def get_device_identifier(name: str, item_code: str):
	device_identifier = frappe.get_cached_doc("UDI Device Identifier", name)
	if device_identifier.item != item_code:
		frappe.throw(
			_("UDI-DI {0} belongs to item {1}, not {2}.").format(
				frappe.bold(name), frappe.bold(device_identifier.item), frappe.bold(item_code)
			),
			title=_("Wrong UDI-DI"),
		)
	if device_identifier.status == "Obsolete":
		frappe.throw(_("UDI-DI {0} is obsolete and cannot be used on new labels.").format(frappe.bold(name)))
	return device_identifier


def set_udi_fields(doc, codes: UDICodes | None) -> None:
	doc.udi_pi = codes.production_identifier if codes else None
	doc.udi_element_string = codes.human_readable if codes else None
	doc.udi_digital_link = codes.digital_link if codes else None


def batch_production_identifiers(batch) -> ProductionIdentifiers:
	return ProductionIdentifiers(
		lot=batch.batch_id or batch.name,
		manufacture_date=getdate(batch.manufacturing_date) if batch.manufacturing_date else None,
		expiry_date=getdate(batch.expiry_date) if batch.expiry_date else None,
	)


def serial_production_identifiers(serial_no, device_identifier) -> ProductionIdentifiers:
	batch = (
		frappe.db.get_value("Batch", serial_no.batch_no, ["manufacturing_date", "expiry_date"], as_dict=True)
		if serial_no.batch_no
		else frappe._dict()
	)
	manufacture_date = serial_no.udi_manufacture_date or batch.manufacturing_date
	expiry_date = serial_no.udi_expiry_date or batch.expiry_date
	return ProductionIdentifiers(
		lot=serial_no.batch_no if device_identifier.label_lot else None,
		serial=serial_no.serial_no or serial_no.name,
		manufacture_date=getdate(manufacture_date) if manufacture_date else None,
		expiry_date=getdate(expiry_date) if expiry_date else None,
	)


def update_batch_udi(batch, method=None) -> None:
	"""Batch validate hook."""
	batch.udi_device_identifier = batch.udi_device_identifier or default_device_identifier(batch.item)
	if not batch.udi_device_identifier:
		set_udi_fields(batch, None)
		return
	device_identifier = get_device_identifier(batch.udi_device_identifier, batch.item)
	set_udi_fields(batch, build_udi_codes(device_identifier, batch_production_identifiers(batch)))


def update_serial_no_udi(serial_no, method=None) -> None:
	"""Serial No validate hook."""
	serial_no.udi_device_identifier = serial_no.udi_device_identifier or default_device_identifier(serial_no.item_code)
	if not serial_no.udi_device_identifier:
		set_udi_fields(serial_no, None)
		return
	device_identifier = get_device_identifier(serial_no.udi_device_identifier, serial_no.item_code)
	pi = serial_production_identifiers(serial_no, device_identifier)
	set_udi_fields(serial_no, build_udi_codes(device_identifier, pi))


# Stock entries through which the company itself makes the serials: their posting date is the
# manufacturing date. A supplier's manufacturing date is unknown to ERPNext and must be entered.
PRODUCING_PURPOSES = {"Manufacture", "Repack", "Material Receipt"}


def assign_udi_to_new_serial_nos(doc, method=None) -> None:
	"""on_submit of stock transactions: ERPNext bulk-inserts new serial numbers without running Serial No
	hooks, so their UDI is computed here, in the same transaction."""
	query, Bundle, BundleEntry = bundle_entries()
	SerialNo = DocType("Serial No")
	pending = (
		query
		.join(SerialNo)
		.on(SerialNo.name == BundleEntry.serial_no)
		.select(SerialNo.name)
		.distinct()
		.where(
			(Bundle.voucher_type == doc.doctype)
			& (Bundle.voucher_no == doc.name)
			& (Bundle.type_of_transaction == "Inward")
			& SerialNo.udi_element_string.isnull()
		)
		.run(pluck=True)
	)
	manufacture_date = doc.posting_date if doc.get("purpose") in PRODUCING_PURPOSES else None
	device_identifiers = {}
	incomplete = []
	for name in pending:
		serial_no = frappe.get_doc("Serial No", name)
		serial_no.udi_manufacture_date = serial_no.udi_manufacture_date or manufacture_date
		if serial_no.item_code not in device_identifiers:
			device_identifiers[serial_no.item_code] = default_device_identifier(serial_no.item_code)
		serial_no.udi_device_identifier = serial_no.udi_device_identifier or device_identifiers[serial_no.item_code]
		if give_udi(serial_no, update_serial_no_udi):
			serial_no.db_update()
		else:
			incomplete.append(name)
	report_records_without_udi(incomplete)


def give_udi(record, update) -> bool:
	"""Computes the record's UDI; False when its data cannot form one (the record itself stays valid)."""
	try:
		update(record)
	except frappe.ValidationError:
		frappe.clear_last_message()
		return False
	return True


def report_records_without_udi(names: list[str]) -> None:
	if names:
		frappe.msgprint(
			_("These records lack data the label needs and have no UDI yet; complete them: {0}").format(", ".join(names[:20])),
			title=_("UDI Not Assigned"),
			indicator="orange",
		)


def assign_udi_to_existing_stock(device_identifier: str) -> int:
	"""When a DI is released, batches and serials of its item that predate it get their UDI too; those
	whose data cannot form one (e.g. a legacy batch without the expiry date the label needs) are listed
	for the user to complete. Returns how many records got a UDI."""
	item = frappe.db.get_value("UDI Device Identifier", device_identifier, "item")
	updated, incomplete = 0, []
	for doctype, item_field, update in (
		("Batch", "item", update_batch_udi),
		("Serial No", "item_code", update_serial_no_udi),
	):
		names = frappe.get_all(doctype, filters={item_field: item, "udi_element_string": ("is", "not set")}, pluck="name")
		for name in names:
			record = frappe.get_doc(doctype, name)
			if give_udi(record, update):
				# A change to an existing record: it belongs in the audit trail even without a save.
				db_update_tracked(record)
				updated += 1
			else:
				incomplete.append(f"{_(doctype)} {name}")
	report_records_without_udi(incomplete)
	return updated
