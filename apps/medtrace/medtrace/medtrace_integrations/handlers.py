"""What each inbound message does. `check` reads only and names precisely what is wrong (it runs when the
message arrives, so the sender is told at once, and again before processing); `apply` creates the
documents through the same document API the Desk uses, as the system's API user."""

import frappe
from frappe import _
from frappe.utils import get_datetime, now_datetime

from medtrace.medtrace_integrations.messages import ProcessParameterV1, ReceiptV1, TestResultV1
from medtrace.utils.bundles import bundle_entries

STARTED_WORK_ORDER_STATES = {"In Process", "Completed"}


def reject(message: str) -> None:
	frappe.throw(message, frappe.ValidationError, title=_("Message Rejected"))


def require(doctype: str, name: str | None, label: str) -> None:
	if name and not frappe.db.exists(doctype, name):
		reject(_("Unknown {0} {1}.").format(label, frappe.bold(name)))


def check_process_parameter(message: ProcessParameterV1, system) -> None:
	require("Work Order", message.work_order, _("work order"))
	require("Batch", message.batch_no, _("lot"))
	require("Serial No", message.serial_no, _("serial number"))
	if message.work_order:
		status = frappe.db.get_value("Work Order", message.work_order, "status")
		if status not in STARTED_WORK_ORDER_STATES:
			reject(
				_("Out of order: work order {0} is {1}; readings are accepted once production has started.").format(
					message.work_order, _(status)
				)
			)
	if message.serial_no and message.batch_no:
		serial_batch = frappe.db.get_value("Serial No", message.serial_no, "batch_no")
		if serial_batch != message.batch_no:
			reject(_("Serial number {0} belongs to lot {1}, not {2}.").format(message.serial_no, serial_batch, message.batch_no))
	if get_datetime(message.recorded_at.replace(tzinfo=None)) > now_datetime():
		reject(_("The reading's time {0} is in the future.").format(message.recorded_at))


def apply_process_parameter(message: ProcessParameterV1, system, message_id: str) -> list:
	record = frappe.get_doc(
		{
			"doctype": "Process Parameter Record",
			"parameter": message.parameter,
			"value": message.value,
			"unit": message.unit,
			"lower_limit": "" if message.lower_limit is None else str(message.lower_limit),
			"upper_limit": "" if message.upper_limit is None else str(message.upper_limit),
			"work_order": message.work_order,
			"batch_no": message.batch_no,
			"serial_no": message.serial_no,
			"equipment": message.equipment,
			"recorded_at": message.recorded_at.replace(tzinfo=None),
			"source": system.system_type,
			"external_id": f"{system.name}:{message_id}",
		}
	).insert()
	return [record]


def tested_item(message: TestResultV1) -> str:
	if message.serial_no:
		return frappe.db.get_value("Serial No", message.serial_no, "item_code")
	return frappe.db.get_value("Batch", message.batch_no, "item")


def check_test_result(message: TestResultV1, system) -> None:
	from medtrace.udi.scan import resolve_scan

	require("Batch", message.batch_no, _("lot"))
	require("Serial No", message.serial_no, _("serial number"))
	require("Quality Inspection Template", message.quality_inspection_template, _("inspection template"))
	if message.udi:
		scanned = resolve_scan(message.udi)
		if (message.serial_no and scanned.get("serial_no") != message.serial_no) or (
			message.batch_no and scanned.get("batch") != message.batch_no
		):
			reject(
				_("Wrong UDI: the sample's label resolves to {0}, not to the lot/serial of the message.").format(
					scanned.get("serial_no") or scanned.get("batch") or scanned.get("udi_device_identifier") or _("nothing known")
				)
			)
	template_parameters = set(
		frappe.get_all(
			"Item Quality Inspection Parameter",
			filters={"parent": message.quality_inspection_template, "parenttype": "Quality Inspection Template"},
			pluck="specification",
		)
	)
	unknown = [r.parameter for r in message.readings if r.parameter not in template_parameters]
	if unknown:
		reject(_("Template {0} has no parameter {1}.").format(message.quality_inspection_template, ", ".join(unknown)))
	if not inward_voucher(message):
		reject(_("Out of order: {0} has not been received or produced yet.").format(message.serial_no or message.batch_no))


def inward_voucher(message: TestResultV1) -> tuple[str, str] | None:
	"""Quality Inspections reference a document: the receipt or manufacture entry that brought the lot in."""
	query, Bundle, BundleEntry = bundle_entries()
	condition = (BundleEntry.serial_no == message.serial_no) if message.serial_no else (BundleEntry.batch_no == message.batch_no)
	rows = (
		query
		.select(Bundle.voucher_type, Bundle.voucher_no)
		.where(condition & (Bundle.type_of_transaction == "Inward") & (Bundle.docstatus == 1)
		       & Bundle.voucher_type.isin(["Purchase Receipt", "Stock Entry"]))
		.orderby(Bundle.creation)
		.limit(1)
		.run()
	)
	return rows[0] if rows else None


def apply_test_result(message: TestResultV1, system, message_id: str) -> list:
	voucher_type, voucher_no = inward_voucher(message)
	inspection = frappe.get_doc(
		{
			"doctype": "Quality Inspection",
			"inspection_type": message.inspection_type,
			"reference_type": voucher_type,
			"reference_name": voucher_no,
			"item_code": tested_item(message),
			"batch_no": message.batch_no or frappe.db.get_value("Serial No", message.serial_no, "batch_no"),
			"item_serial_no": message.serial_no,
			"sample_size": 1,
			"report_date": message.tested_at.date(),
			"inspected_by": frappe.session.user,
			"quality_inspection_template": message.quality_inspection_template,
			"remarks": _("From {0}, message {1}").format(system.name, message_id),
		}
	)
	inspection.get_item_specification_details()
	values = {r.parameter: r.value for r in message.readings}
	for reading in inspection.readings:
		value = values.get(reading.specification)
		if value is None:
			continue
		if isinstance(value, float):
			reading.reading_1 = str(value)
		else:
			reading.reading_value = value
	inspection.insert()
	inspection.submit()
	return [inspection]


def check_receipt(message: ReceiptV1, system) -> None:
	require("Supplier", message.supplier, _("supplier"))
	for index, line in enumerate(message.lines, start=1):
		if not frappe.db.exists("Item", line.item_code):
			reject(_("Line {0}: unknown item {1}.").format(index, frappe.bold(line.item_code)))
		require("Warehouse", line.warehouse, _("warehouse"))
		has_batch_no = frappe.db.get_value("Item", line.item_code, "has_batch_no")
		if has_batch_no and not line.supplier_lot:
			reject(_("Line {0}: item {1} is lot-tracked; the supplier's lot number is required.").format(index, line.item_code))
		if (
			line.supplier_lot
			and not frappe.db.get_value("Item", line.item_code, "create_new_batch")
			and frappe.db.exists("Batch", line.supplier_lot)
		):
			reject(_("Line {0}: lot {1} already exists; the item must name its own batches to receive it again.").format(index, line.supplier_lot))
		if line.supplier_lot and not has_batch_no:
			reject(_("Line {0}: item {1} is not lot-tracked, but a supplier lot was sent.").format(index, line.item_code))
		if not (line.warehouse or system.default_warehouse):
			reject(_("Line {0}: no warehouse, and system {1} has no default warehouse.").format(index, system.name))


def apply_receipt(message: ReceiptV1, system, message_id: str) -> list:
	receipt = frappe.new_doc("Purchase Receipt")
	receipt.update(
		{
			"supplier": message.supplier,
			"company": system.company,
			"supplier_delivery_note": message.supplier_delivery_note,
			"remarks": _("From {0}, message {1}").format(system.name, message_id),
		}
	)
	created = []
	for line in message.lines:
		batch_no = None
		if line.supplier_lot:
			# Items that name their own batches (a series or coding rule) keep the supplier's lot as a
			# reference; the others are received under the supplier's lot number.
			own_naming = frappe.db.get_value("Item", line.item_code, "create_new_batch")
			batch = frappe.get_doc(
				{
					"doctype": "Batch",
					"batch_id": None if own_naming else line.supplier_lot,
					"item": line.item_code,
					"supplier": message.supplier,
					"medtrace_supplier_lot": line.supplier_lot,
					"manufacturing_date": line.manufacture_date,
					"expiry_date": line.expiry_date,
				}
			).insert()
			batch_no = batch.name
			created.append(batch)
		receipt.append(
			"items",
			{
				"item_code": line.item_code,
				"qty": line.qty,
				"rate": line.rate,
				"warehouse": line.warehouse or system.default_warehouse,
				"batch_no": batch_no,
				"use_serial_batch_fields": 1 if batch_no else 0,
			},
		)
	receipt.insert()
	receipt.submit()
	return [*created, receipt]


HANDLERS = {
	"mes.process_parameter.v1": (check_process_parameter, apply_process_parameter),
	"lims.test_result.v1": (check_test_result, apply_test_result),
	"wms.receipt.v1": (check_receipt, apply_receipt),
}
