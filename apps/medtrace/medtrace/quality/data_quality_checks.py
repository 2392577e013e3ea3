"""Python checks Data Quality Rules can name, for conditions Frappe filters cannot express: each is one
query (or one query and a pass in Python), so it stays fast over hundreds of thousands of records.

Each returns {record name: what is wrong}. List new ones under ``medtrace_data_quality_checks`` in
hooks.py; see medtrace.quality.data_quality.
"""

import frappe
from frappe import _
from frappe.query_builder import DocType
from frappe.query_builder.functions import IfNull

from medtrace.quality.data_quality import data_quality_check
from medtrace.udi.production_udi import batch_production_identifiers, build_udi_codes

Batch = DocType("Batch")
DeviceIdentifier = DocType("UDI Device Identifier")
Bundle = DocType("Serial and Batch Bundle")
BundleEntry = DocType("Serial and Batch Entry")


def item_default_di_condition():
	"""A record without a DI of its own carries its item's released base-unit DI (production_udi)."""
	return (DeviceIdentifier.status == "Released") & (DeviceIdentifier.packaging_level == "Base Unit")


@data_quality_check("Batch")
def batch_missing_required_expiry_date(rule) -> dict[str, str]:
	"""Enabled batches without an expiry date whose UDI-DI prints one on the label."""
	missing_expiry = Batch.expiry_date.isnull() & (Batch.disabled == 0) & (DeviceIdentifier.label_expiry_date == 1)
	own_di = (
		frappe.qb.from_(Batch)
		.join(DeviceIdentifier)
		.on(DeviceIdentifier.name == Batch.udi_device_identifier)
		.select(Batch.name, DeviceIdentifier.name)
		.where(missing_expiry)
	)
	item_di = (
		frappe.qb.from_(Batch)
		.join(DeviceIdentifier)
		.on(DeviceIdentifier.item == Batch.item)
		.select(Batch.name, DeviceIdentifier.name)
		.where(missing_expiry & (IfNull(Batch.udi_device_identifier, "") == "") & item_default_di_condition())
	)
	return {
		batch: _("Batch {0} has no expiry date, but UDI-DI {1} prints one on its label.").format(batch, di)
		for batch, di in (*own_di.run(), *item_di.run())
	}


@data_quality_check("Serial No")
def serial_no_without_udi_di(rule) -> dict[str, str]:
	"""Serial numbers without a UDI-DI although their item has a released base-unit UDI-DI."""
	SerialNo = DocType("Serial No")
	rows = (
		frappe.qb.from_(SerialNo)
		.join(DeviceIdentifier)
		.on(DeviceIdentifier.item == SerialNo.item_code)
		.select(SerialNo.name, SerialNo.item_code, DeviceIdentifier.name)
		.where((IfNull(SerialNo.udi_device_identifier, "") == "") & item_default_di_condition())
		.run()
	)
	return {
		serial: _("Serial number {0} has no UDI-DI, though item {1} has released UDI-DI {2}.").format(serial, item, di)
		for serial, item, di in rows
	}


@data_quality_check("Batch")
def received_batch_without_supplier_lot(rule) -> dict[str, str]:
	"""Batches received on a submitted Purchase Receipt that do not record the supplier's lot number."""
	rows = (
		frappe.qb.from_(BundleEntry)
		.join(Bundle)
		.on(Bundle.name == BundleEntry.parent)
		.join(Batch)
		.on(Batch.name == BundleEntry.batch_no)
		.select(Batch.name, Bundle.voucher_no)
		.distinct()
		.where(
			(Bundle.voucher_type == "Purchase Receipt")
			& (Bundle.type_of_transaction == "Inward")
			& (Bundle.docstatus == 1)
			& (Bundle.is_cancelled == 0)
			& (IfNull(Batch.medtrace_supplier_lot, "") == "")
		)
		.run()
	)
	return {
		batch: _("Batch {0} was received on Purchase Receipt {1} without the supplier's lot number.").format(batch, receipt)
		for batch, receipt in rows
	}


@data_quality_check("Quality Inspection")
def quality_inspection_without_readings(rule) -> dict[str, str]:
	"""Submitted Quality Inspections that record no readings."""
	Inspection, Reading = DocType("Quality Inspection"), DocType("Quality Inspection Reading")
	rows = (
		frappe.qb.from_(Inspection)
		.left_join(Reading)
		.on((Reading.parent == Inspection.name) & (Reading.parenttype == "Quality Inspection"))
		.select(Inspection.name, Inspection.item_code)
		.where((Inspection.docstatus == 1) & Reading.name.isnull())
		.run()
	)
	return {
		inspection: _("Quality Inspection {0} of {1} was submitted without readings.").format(inspection, item)
		for inspection, item in rows
	}


@data_quality_check("Batch")
def delivered_lot_with_inconsistent_udi(rule) -> dict[str, str]:
	"""Delivered lots whose stored UDI differs from the one their DI and dates give today, or is missing."""
	delivered = (
		frappe.qb.from_(BundleEntry)
		.join(Bundle)
		.on(Bundle.name == BundleEntry.parent)
		.join(Batch)
		.on(Batch.name == BundleEntry.batch_no)
		.select(
			Batch.name, Batch.batch_id, Batch.item, Batch.manufacturing_date, Batch.expiry_date,
			Batch.udi_device_identifier, Batch.udi_element_string,
		)
		.distinct()
		.where(
			Bundle.voucher_type.isin(("Delivery Note", "Sales Invoice"))
			& (Bundle.type_of_transaction == "Outward")
			& (Bundle.docstatus == 1)
			& (Bundle.is_cancelled == 0)
		)
		.run(as_dict=True)
	)
	released = dict(
		frappe.qb.from_(DeviceIdentifier).select(DeviceIdentifier.item, DeviceIdentifier.name).where(item_default_di_condition()).run()
	)
	found = {}
	for lot in delivered:
		di = lot.udi_device_identifier or released.get(lot.item)
		if di:
			problem = udi_inconsistency(lot, di)
			if problem:
				found[lot.name] = problem
	return found


def udi_inconsistency(lot, di: str) -> str | None:
	if not frappe.db.exists("UDI Device Identifier", di):
		# Only a deletion behind the link checks' back leaves one (an app reinstalled, rows removed in SQL).
		return _("Delivered lot {0} names UDI-DI {1}, which is not registered.").format(lot.name, di)
	device_identifier = frappe.get_cached_doc("UDI Device Identifier", di)
	try:
		expected = build_udi_codes(device_identifier, batch_production_identifiers(lot)).human_readable
	except frappe.ValidationError:
		frappe.clear_last_message()
		return _("Delivered lot {0} lacks data its UDI-DI {1} needs on the label.").format(lot.name, di)
	if lot.udi_element_string != expected:
		return _("Delivered lot {0} carries UDI {1}, but its DI and dates give {2}.").format(
			lot.name, lot.udi_element_string or _("(none)"), expected
		)
	return None
