"""What each inbound message does. `check` reads only and names precisely what is wrong (it runs when the
message arrives, so the sender is told at once, and again before processing); `apply` creates the
documents through the same document API the Desk uses, as the system's API user."""

import datetime
from zoneinfo import ZoneInfo

import frappe
from erpnext.manufacturing.doctype.work_order.work_order import make_stock_entry
from erpnext.stock.doctype.batch.batch import get_batch_qty
from frappe import _
from frappe.utils import flt, get_system_timezone, now_datetime

from medtrace.medtrace_integrations.messages import (
	ConsumptionV1,
	EpcisReceiptV1,
	PickV1,
	ProcessParameterV1,
	ProductionV1,
	ReceiptV1,
	TestResultV1,
	TransferV1,
)
from medtrace.packaging.epcis_receipt import receipts_of_epcis
from medtrace.packaging.integration import apply_pack, apply_unpack, check_pack, check_unpack, package_stock_lines
from medtrace.packaging.scan import find_package
from medtrace.recall.holds import hold_refusal
from medtrace.udi.coding_rules import LOT, coding_rule_for
from medtrace.udi.scan import ScanError, resolve_scan
from medtrace.utils.bundles import bundle_entries

STARTED_WORK_ORDER_STATES = {"In Process", "Completed"}
# Work Orders that still take material and report production.
OPEN_WORK_ORDER_STATES = {"Not Started", "In Process"}


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
	if local_datetime(message.recorded_at) > now_datetime():
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
			"recorded_at": local_datetime(message.recorded_at),
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
			"report_date": local_datetime(message.tested_at).date(),
			"inspected_by": frappe.session.user,
			"quality_inspection_template": message.quality_inspection_template,
			"remarks": remarks(system, message_id),
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
			"remarks": remarks(system, message_id),
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


# Lots and serial numbers named in messages, by number or by scanned label


def stock_line(index: int, qty: float, udi=None, batch_no=None, serial_no=None, item_code=None) -> frappe._dict:
	"""What a message line moves: item, lot, serial number and quantity."""
	if udi:
		line = labelled_lot_or_serial(index, udi)
	elif serial_no:
		line = serial_no_line(index, serial_no)
	else:
		line = lot_line(index, batch_no)
	line.update(index=index, qty=qty, named=udi or serial_no or batch_no)
	if item_code and item_code != line.item:
		reject(_("Line {0}: {1} belongs to item {2}, not to item {3}.").format(index, line.named, line.item, item_code))
	if line.serial_no and qty != 1:
		reject(_("Line {0}: serial number {1} is one unit; its quantity must be 1, not {2}.").format(index, line.serial_no, qty_text(qty)))
	if not line.serial_no and frappe.get_cached_value("Item", line.item, "has_serial_no"):
		reject(_("Line {0}: item {1} has serial numbers; name the serial number, not lot {2}.").format(index, line.item, line.batch_no))
	return line


def labelled_lot_or_serial(index: int, udi: str) -> frappe._dict:
	try:
		scanned = resolve_scan(udi)
	except ScanError as error:
		frappe.clear_last_message()
		reject(_("Line {0}: {1}").format(index, error))
	if scanned["status"] != "resolved":
		reject(
			_("Line {0}: the UDI does not resolve to a lot or serial number MedTrace knows: {1}").format(
				index, " ".join([scanned["message"], *scanned["warnings"]])
			)
		)
	if not (scanned["batch"] or scanned["serial_no"]):
		reject(
			_("Line {0}: the UDI names only the device identifier {1}, not a lot or serial number.").format(
				index, scanned["udi_device_identifier"]
			)
		)
	line = serial_no_line(index, scanned["serial_no"]) if scanned["serial_no"] else lot_line(index, scanned["batch"])
	line.di = scanned["udi_device_identifier"]
	return line


def serial_no_line(index: int, serial_no: str) -> frappe._dict:
	serial = frappe.db.get_value("Serial No", serial_no, ["name", "item_code", "batch_no"], as_dict=True)
	if not serial:
		reject(_("Line {0}: unknown serial number {1}.").format(index, frappe.bold(serial_no)))
	return frappe._dict(item=serial.item_code, batch_no=serial.batch_no, serial_no=serial.name)


def lot_line(index: int, batch_no: str) -> frappe._dict:
	item = frappe.db.get_value("Batch", batch_no, "item")
	if not item:
		reject(_("Line {0}: unknown lot {1}.").format(index, frappe.bold(batch_no)))
	return frappe._dict(item=item, batch_no=batch_no, serial_no=None)


def stock_lines(lines) -> list[frappe._dict]:
	resolved = []
	for index, line in enumerate(lines, start=1):
		values = line.model_dump()
		# A scanned SSCC or package UDI stands for everything packed inside it (medtrace.packaging).
		package = values.get("udi") and find_package(values["udi"])
		resolved += package_stock_lines(index, package) if package else [stock_line(index, **values)]
	return resolved


def check_can_leave(lines: list, warehouse: str) -> None:
	"""Every serial number once, in the warehouse; enough of every lot there; nothing held by a recall."""
	serial_nos = [line.serial_no for line in lines if line.serial_no]
	twice = listed_twice(serial_nos)
	if twice:
		reject(_("Serial number {0} is listed more than once.").format(", ".join(twice)))
	for line in lines:
		if line.serial_no:
			check_serial_no_in(line, warehouse)
	needed = {}
	for line in lines:
		if not line.serial_no:
			needed[line.batch_no] = needed.get(line.batch_no, 0) + line.qty
	for batch_no, qty in needed.items():
		in_stock = flt(get_batch_qty(batch_no=batch_no, warehouse=warehouse))
		if qty > in_stock:
			reject(
				_("Not enough of lot {0} in warehouse {1}: {2} needed, {3} in stock.").format(
					batch_no, warehouse, qty_text(qty), qty_text(in_stock)
				)
			)
	# The same refusal the recall hold gives when the document is submitted, but before the message is queued.
	refusal = hold_refusal({line.batch_no for line in lines if line.batch_no}, set(serial_nos))
	if refusal:
		reject(refusal)


def check_serial_no_in(line, warehouse: str) -> None:
	status, location, customer = frappe.db.get_value("Serial No", line.serial_no, ["status", "warehouse", "customer"])
	if status == "Delivered":
		reject(_("Line {0}: serial number {1} was already delivered to {2}.").format(line.index, line.serial_no, customer or _("a customer")))
	if location != warehouse:
		reject(
			_("Line {0}: serial number {1} is not in warehouse {2} ({3}).").format(
				line.index, line.serial_no, warehouse, location or _(status or "Inactive")
			)
		)


def stock_row(line, **warehouses) -> dict:
	"""A document row moving the line's lot or serial number, through the row's own serial/batch fields."""
	return {
		"item_code": line.item,
		"qty": line.qty,
		"batch_no": None if line.serial_no else line.batch_no,
		"serial_no": line.serial_no,
		"use_serial_batch_fields": 1,
		"medtrace_package": line.get("package"),
		**warehouses,
	}


def require_warehouse(name: str | None, system, field: str) -> None:
	if not name:
		reject(_("No {0} was sent, and system {1} has no default warehouse.").format(field, system.name))
	require("Warehouse", name, _("warehouse"))
	if frappe.db.get_value("Warehouse", name, "company") != system.company:
		reject(_("Warehouse {0} does not belong to {1}.").format(name, system.company))


def listed_twice(values: list) -> list:
	return sorted({value for value in values if values.count(value) > 1})


def qty_text(qty: float) -> str:
	return f"{flt(qty):g}"


def local_datetime(value: datetime.datetime) -> datetime.datetime:
	"""A sent time as Frappe stores times: naive, in the system's time zone."""
	if value.tzinfo:
		value = value.astimezone(ZoneInfo(get_system_timezone()))
	return value.replace(tzinfo=None)


def remarks(system, message_id: str) -> str:
	return _("From {0}, message {1}").format(system.name, message_id)


def check_epcis_receipt(message: EpcisReceiptV1, system) -> None:
	for receipt in receipts_of_epcis(message, system):
		check_receipt(receipt, system)


def apply_epcis_receipt(message: EpcisReceiptV1, system, message_id: str) -> list:
	return [document for receipt in receipts_of_epcis(message, system) for document in apply_receipt(receipt, system, message_id)]


# Work Orders


def open_work_order(name: str):
	require("Work Order", name, _("work order"))
	work_order = frappe.get_doc("Work Order", name)
	if work_order.docstatus != 1 or work_order.status not in OPEN_WORK_ORDER_STATES:
		reject(
			_("Out of order: work order {0} is {1}; it takes material and reports production only while submitted, not stopped and not completed.").format(
				name, _(work_order.status)
			)
		)
	return work_order


def material_lines(lines, work_order) -> list[frappe._dict]:
	"""The lots and serial numbers of components the Work Order uses."""
	resolved = stock_lines(lines)
	used = {row.item_code for row in work_order.required_items}
	for line in resolved:
		if line.item not in used:
			what = _("UDI-DI {0}").format(line.di) if line.get("di") else line.named
			reject(_("Line {0}: {1} is item {2}, which work order {3} does not use.").format(line.index, what, line.item, work_order.name))
	return resolved


def consumption_source(message: ConsumptionV1, work_order, system) -> str | None:
	return message.from_warehouse or work_order.source_warehouse or system.default_warehouse


def production_source(work_order, system) -> str | None:
	"""Where a Manufacture entry takes its material from, as ERPNext's make_stock_entry decides."""
	if work_order.skip_transfer and not work_order.from_wip_warehouse:
		return work_order.source_warehouse or system.default_warehouse
	return work_order.wip_warehouse


def check_consumption(message: ConsumptionV1, system) -> None:
	work_order = open_work_order(message.work_order)
	if work_order.skip_transfer:
		reject(
			_("Work order {0} skips the transfer to work in progress; send what it used with its production (mes.production.v1).").format(
				work_order.name
			)
		)
	source = consumption_source(message, work_order, system)
	require_warehouse(source, system, "from_warehouse")
	check_can_leave(material_lines(message.lines, work_order), source)


def apply_consumption(message: ConsumptionV1, system, message_id: str) -> list:
	work_order = frappe.get_doc("Work Order", message.work_order)
	source = consumption_source(message, work_order, system)
	# ERPNext counts a Work Order's transferred quantity from the entries' "for quantity": the first transfer
	# is for all that is still to make, later ones add material to it.
	untransferred = max(flt(work_order.qty) - flt(work_order.material_transferred_for_manufacturing), 0)
	entry = frappe.get_doc(make_stock_entry(work_order.name, "Material Transfer for Manufacture", untransferred))
	entry.set("items", [])
	for line in material_lines(message.lines, work_order):
		entry.append("items", stock_row(line, s_warehouse=source, t_warehouse=work_order.wip_warehouse))
	entry.remarks = remarks(system, message_id)
	entry.insert()
	entry.submit()
	return [entry]


def check_production(message: ProductionV1, system) -> None:
	work_order = open_work_order(message.work_order)
	if not work_order.skip_transfer and work_order.status != "In Process":
		reject(
			_("Out of order: no material has been moved to work order {0} yet (mes.consumption.v1); it produces from work in progress.").format(
				work_order.name
			)
		)
	check_production_qty(message, work_order)
	check_finished_units(message, work_order.production_item)
	if message.consumed:
		check_can_leave(material_lines(message.consumed, work_order), production_source(work_order, system))
	if local_datetime(message.completed_at) > now_datetime():
		reject(_("The completion time {0} is in the future.").format(message.completed_at))


def check_production_qty(message: ProductionV1, work_order) -> None:
	allowance = flt(frappe.db.get_single_value("Manufacturing Settings", "overproduction_percentage_for_work_order"))
	remaining = flt(work_order.qty) * (1 + allowance / 100) - flt(work_order.produced_qty)
	if message.qty > remaining:
		reject(
			_("Work order {0} has {1} left to produce; {2} were reported.").format(work_order.name, qty_text(remaining), qty_text(message.qty))
		)
	in_progress = flt(work_order.material_transferred_for_manufacturing) - flt(work_order.produced_qty)
	if not message.consumed and not work_order.skip_transfer and message.qty > in_progress:
		reject(
			_("Work order {0} has material in work in progress for {1} more; {2} were reported. Send what was consumed, or move more material first.").format(
				work_order.name, qty_text(in_progress), qty_text(message.qty)
			)
		)


def check_finished_units(message: ProductionV1, item_code: str) -> None:
	item = frappe.db.get_value("Item", item_code, ["has_batch_no", "has_serial_no", "create_new_batch"], as_dict=True)
	if message.batch_no:
		if not item.has_batch_no:
			reject(_("Item {0} is not lot-tracked, but lot {1} was sent.").format(item_code, message.batch_no))
		lot_item = frappe.db.get_value("Batch", message.batch_no, "item")
		if lot_item and lot_item != item_code:
			reject(_("Lot {0} belongs to item {1}, not to item {2}.").format(message.batch_no, lot_item, item_code))
	elif item.has_batch_no and not (item.create_new_batch or coding_rule_for(item_code, LOT)):
		reject(_("Item {0} is lot-tracked and numbers no lots of its own (batch series or UDI Coding Rule); send batch_no.").format(item_code))
	if not item.has_serial_no:
		if message.serial_nos:
			reject(_("Item {0} has no serial numbers, but serial numbers were sent.").format(item_code))
		return
	if len(message.serial_nos) != message.qty:
		reject(
			_("Item {0} has serial numbers: {1} were sent for a quantity of {2}; send one per unit.").format(
				item_code, len(message.serial_nos), qty_text(message.qty)
			)
		)
	twice = listed_twice(message.serial_nos)
	if twice:
		reject(_("Serial number {0} is listed more than once.").format(", ".join(twice)))
	existing = frappe.get_all("Serial No", filters={"name": ("in", message.serial_nos)}, pluck="name", order_by="name")
	if existing:
		reject(_("Serial number {0} already exists; units produced need new serial numbers.").format(", ".join(existing)))


def apply_production(message: ProductionV1, system, message_id: str) -> list:
	work_order = frappe.get_doc("Work Order", message.work_order)
	entry = frappe.get_doc(make_stock_entry(work_order.name, "Manufacture", message.qty))
	if message.consumed or not work_order.skip_transfer:
		set_consumed_rows(entry, message, work_order, system)
	completed_at = local_datetime(message.completed_at)
	# As text, as ERPNext writes posting times: its valuation queries inline a time object without its
	# microseconds, and a completion in the same second as the material's transfer would then precede it.
	entry.update(
		{"set_posting_time": 1, "posting_date": completed_at.date(), "posting_time": completed_at.strftime("%H:%M:%S.%f"),
		 "remarks": remarks(system, message_id)}
	)
	finished = next(row for row in entry.items if row.is_finished_item)
	finished.update({"batch_no": message.batch_no, "serial_no": "\n".join(message.serial_nos) or None, "use_serial_batch_fields": 1})
	entry.insert()
	created = []
	if not message.batch_no and frappe.get_cached_value("Item", work_order.production_item, "has_batch_no"):
		# Made as ERPNext makes a manufacture entry's batch, so the item's coding rule or batch series numbers it.
		lot = frappe.get_doc(
			{"doctype": "Batch", "item": work_order.production_item, "reference_doctype": entry.doctype,
			 "reference_name": entry.name, "manufacturing_date": completed_at.date()}
		).insert()
		finished.batch_no = lot.name
		created.append(lot)
	entry.submit()
	return [*created, entry]


def set_consumed_rows(entry, message: ProductionV1, work_order, system) -> None:
	"""The Manufacture consumes exactly the lots and serial numbers sent, else a share of what was moved to
	work in progress for this Work Order (as ERPNext backflushes by material transferred)."""
	made = [{k: v for k, v in row.as_dict().items() if k not in ("name", "idx")} for row in entry.items if not row.s_warehouse]
	entry.set("items", [])
	if message.consumed:
		source = production_source(work_order, system)
		for line in material_lines(message.consumed, work_order):
			entry.append("items", stock_row(line, s_warehouse=source))
	else:
		entry.add_transfered_raw_materials_in_items()
	for row in made:
		entry.append("items", row)


# Warehouse movements by scanned label


def transfer_source(message: TransferV1, system) -> str | None:
	return message.from_warehouse or system.default_warehouse


def check_transfer(message: TransferV1, system) -> None:
	source = transfer_source(message, system)
	require_warehouse(source, system, "from_warehouse")
	require_warehouse(message.to_warehouse, system, "to_warehouse")
	if source == message.to_warehouse:
		reject(_("Nothing would move: from_warehouse and to_warehouse are both {0}.").format(source))
	check_can_leave(stock_lines(message.lines), source)


def apply_transfer(message: TransferV1, system, message_id: str) -> list:
	source = transfer_source(message, system)
	entry = frappe.new_doc("Stock Entry")
	entry.update({"stock_entry_type": "Material Transfer", "company": system.company, "remarks": remarks(system, message_id)})
	for line in stock_lines(message.lines):
		entry.append("items", stock_row(line, s_warehouse=source, t_warehouse=message.to_warehouse))
	entry.insert()
	entry.submit()
	return [entry]


def pick_warehouse(message: PickV1, system) -> str | None:
	return message.warehouse or system.default_warehouse


def check_pick(message: PickV1, system) -> None:
	require("Customer", message.customer, _("customer"))
	if message.shipping_address:
		require("Address", message.shipping_address, _("address"))
		if not frappe.db.exists(
			"Dynamic Link",
			{"parenttype": "Address", "parent": message.shipping_address, "link_doctype": "Customer", "link_name": message.customer},
		):
			reject(_("Address {0} is not an address of customer {1}.").format(message.shipping_address, message.customer))
	warehouse = pick_warehouse(message, system)
	require_warehouse(warehouse, system, "warehouse")
	check_can_leave(stock_lines(message.lines), warehouse)


def apply_pick(message: PickV1, system, message_id: str) -> list:
	warehouse = pick_warehouse(message, system)
	note = frappe.new_doc("Delivery Note")
	note.update({"customer": message.customer, "company": system.company, "shipping_address_name": message.shipping_address})
	for line in stock_lines(message.lines):
		note.append("items", stock_row(line, warehouse=warehouse))
	note.insert()
	note.submit()
	return [note]


HANDLERS = {
	"mes.process_parameter.v1": (check_process_parameter, apply_process_parameter),
	"mes.consumption.v1": (check_consumption, apply_consumption),
	"mes.production.v1": (check_production, apply_production),
	"lims.test_result.v1": (check_test_result, apply_test_result),
	"wms.receipt.v1": (check_receipt, apply_receipt),
	"wms.epcis_receipt.v1": (check_epcis_receipt, apply_epcis_receipt),
	"wms.transfer.v1": (check_transfer, apply_transfer),
	"wms.pick.v1": (check_pick, apply_pick),
	"wms.pack.v1": (check_pack, apply_pack),
	"wms.unpack.v1": (check_unpack, apply_unpack),
}
