"""Packing what a Stock Entry produced or received: its serial numbers and lot quantities into cases of so
many units, and the cases onto pallets of so many cases — the end of a packing line, in one step."""

import frappe
from erpnext.stock.doctype.batch.batch import get_batch_qty
from frappe import _
from frappe.utils import cint, flt

from medtrace.packaging.packing import live_package_of, pack, packed_lot_qty
from medtrace.udi.production_udi import PRODUCING_PURPOSES
from medtrace.utils.bundles import bundle_entries


def produced_units(entry, item_code: str | None) -> list[frappe._dict]:
	"""Serial numbers and lot quantities the entry brought in, still in its target warehouse and unpacked."""
	query, Bundle, Entry = bundle_entries()
	rows = (
		query.select(Bundle.item_code, Entry.serial_no, Entry.batch_no, Entry.qty, Entry.warehouse)
		.where((Bundle.voucher_type == "Stock Entry") & (Bundle.voucher_no == entry.name) & (Bundle.type_of_transaction == "Inward"))
		.orderby(Bundle.creation).orderby(Entry.idx)
		.run(as_dict=True)
	)
	units = []
	for row in rows:
		if item_code and row.item_code != item_code:
			continue
		if row.serial_no:
			if frappe.db.get_value("Serial No", row.serial_no, "warehouse") == row.warehouse and not live_package_of(serial_no=row.serial_no):
				units.append(frappe._dict(item_code=row.item_code, serial_no=row.serial_no, qty=1, warehouse=row.warehouse))
		elif row.batch_no:
			loose = flt(get_batch_qty(batch_no=row.batch_no, warehouse=row.warehouse)) - packed_lot_qty(row.batch_no, row.warehouse)
			qty = min(abs(flt(row.qty)), loose)
			if qty > 0:
				units.append(frappe._dict(item_code=row.item_code, batch_no=row.batch_no, qty=qty, warehouse=row.warehouse))
	return units


def case_contents(units: list, per_case: int) -> list[list[dict]]:
	"""The units in cases of `per_case`, a lot's quantity split across cases as needed; the last may be short."""
	cases, current, room = [], [], per_case
	for unit in units:
		if unit.serial_no:
			current.append({"serial_no": unit.serial_no})
			room -= 1
		else:
			qty = flt(unit.qty)
			while qty > 0:
				taken = min(qty, room)
				current.append({"batch_no": unit.batch_no, "qty": taken})
				qty -= taken
				room -= taken
				if room <= 0 and qty > 0:
					cases.append(current)
					current, room = [], per_case
		if room <= 0:
			cases.append(current)
			current, room = [], per_case
	if current:
		cases.append(current)
	return cases


def new_package(entry, warehouse: str, level: str, udi_device_identifier: str | None = None) -> str:
	return frappe.get_doc(
		{
			"doctype": "Package",
			"packaging_level": level,
			"identified_by": "SSCC and Package UDI" if udi_device_identifier else "SSCC",
			"udi_device_identifier": udi_device_identifier,
			"company": entry.company,
			"warehouse": warehouse,
		}
	).insert().name


@frappe.whitelist(methods=["POST"])
def pack_stock_entry(
	stock_entry: str, units_per_case: int | None = None, udi_device_identifier: str | None = None, cases_per_pallet: int = 0
) -> dict:
	"""Cases (and pallets) of what a submitted Manufacture, Repack or Material Receipt brought in. The case
	UDI-DI, when given, names the item packed and, by its quantity, the units per case."""
	if not isinstance(stock_entry, str) or not frappe.db.exists("Stock Entry", stock_entry):
		frappe.throw(_("Stock Entry {0} does not exist.").format(frappe.bold(stock_entry)), frappe.DoesNotExistError)
	entry = frappe.get_doc("Stock Entry", stock_entry)
	entry.check_permission("read")
	frappe.has_permission("Package", "create", throw=True)
	if entry.docstatus != 1 or entry.purpose not in PRODUCING_PURPOSES:
		frappe.throw(
			_("Packages are packed from what a submitted stock entry of purpose {0} brought in.").format(
				", ".join(_(purpose) for purpose in sorted(PRODUCING_PURPOSES))
			),
			title=_("Nothing to Pack"),
		)
	item_code = udi_device_identifier and frappe.db.get_value("UDI Device Identifier", udi_device_identifier, "item")
	if udi_device_identifier and not item_code:
		frappe.throw(_("UDI-DI {0} does not exist.").format(frappe.bold(udi_device_identifier)), frappe.DoesNotExistError)
	per_case = cint(units_per_case) or cint(
		udi_device_identifier and frappe.db.get_value("UDI Device Identifier", udi_device_identifier, "quantity_per_package")
	)
	if per_case <= 0:
		frappe.throw(_("Give the units per case, or a case UDI-DI that says how many it holds."), title=_("Units per Case"))
	if cint(cases_per_pallet) < 0:
		frappe.throw(_("Cases per pallet cannot be negative."), title=_("Cases per Pallet"))
	units = produced_units(entry, item_code)
	if not units:
		frappe.throw(_("Stock Entry {0} brought in nothing that is still in stock and unpacked.").format(frappe.bold(entry.name)), title=_("Nothing to Pack"))
	cases = []
	for warehouse in sorted({unit.warehouse for unit in units}):
		for contents in case_contents([unit for unit in units if unit.warehouse == warehouse], per_case):
			case = new_package(entry, warehouse, "Case", udi_device_identifier)
			pack(case, contents, entry)
			cases.append((case, warehouse))
	pallets = []
	per_pallet = cint(cases_per_pallet)
	if per_pallet:
		for warehouse in sorted({warehouse for _case, warehouse in cases}):
			in_warehouse = [case for case, at in cases if at == warehouse]
			for start in range(0, len(in_warehouse), per_pallet):
				pallet = new_package(entry, warehouse, "Pallet")
				pack(pallet, [{"package": case} for case in in_warehouse[start : start + per_pallet]], entry)
				pallets.append(pallet)
	return {"cases": [case for case, _warehouse in cases], "pallets": pallets}
