"""A recall's quantities are summed per unit of measure, never across: kilograms of resin and pieces of
syringes made from it are counted apart, on the form, per customer and in the Recall Report."""

import frappe

from factories import make_customer, make_item, signed_workflow_action
from offline_seed import TEST_COMPANY
from test_trace_links import FINISHED, STORES, consumed, made

import pytest

pytestmark = pytest.mark.requirement("MT-RCL-001")


def stock_entry(purpose: str, rows: list[dict]):
	entry = frappe.new_doc("Stock Entry")
	entry.update({"stock_entry_type": purpose, "company": TEST_COMPANY})
	for row in rows:
		entry.append("items", {"use_serial_batch_fields": 1, "basic_rate": 2, **row})
	entry.insert()
	entry.submit()
	return entry


def lot(item_code: str) -> str:
	return frappe.get_doc({"doctype": "Batch", "batch_id": f"UOM-{frappe.generate_hash(length=8).upper()}", "item": item_code}).insert().name


def test_resin_kilograms_and_syringe_pieces_are_never_added():
	resin = make_item(item_name="PP Resin (kg)", has_batch_no=1, stock_uom="Kg").name
	syringe = make_item(item_name="Syringe 5 mL", has_batch_no=1).name
	resin_lot, syringe_lot = lot(resin), lot(syringe)
	stock_entry("Material Receipt", [{"item_code": resin, "qty": 50, "t_warehouse": STORES, "batch_no": resin_lot}])
	stock_entry("Repack", [consumed(resin, 6, STORES, batch_no=resin_lot), made(syringe, 240, FINISHED, batch_no=syringe_lot)])
	customer = make_customer()
	note = frappe.new_doc("Delivery Note")
	note.update({"customer": customer, "company": TEST_COMPANY, "currency": "CNY", "conversion_rate": 1})
	note.append("items", {"item_code": syringe, "qty": 100, "rate": 3, "warehouse": FINISHED, "batch_no": syringe_lot, "use_serial_batch_fields": 1})
	note.insert()
	note.submit()

	recall = frappe.get_doc(
		{"doctype": "Recall", "title": "Resin out of specification", "classification": "Class II", "trigger": "Internal Finding",
		 "reason": "Melt flow index out of specification", "scope": [{"batch_no": resin_lot}]}
	).insert()
	recall = signed_workflow_action(recall, "Scope Recall")

	assert {(row.batch_no, row.stock_uom) for row in recall.affected_units} == {(resin_lot, "Kg"), (syringe_lot, "Nos")}
	assert [(row.customer, row.stock_uom, row.units_delivered) for row in recall.customers] == [(customer, "Nos", 100)]
	totals = {row.stock_uom: (row.qty_in_stock, row.qty_delivered, row.qty_unaccounted) for row in recall.unit_totals}
	assert totals == {"Kg": (44, 0, 0), "Nos": (140, 100, 100)}
	assert not recall.all_units_accounted_for

	printed = frappe.get_print("Recall", recall.name, "Recall Report")
	assert "Units per Unit of Measure" in printed
	assert "<td>Kg</td><td>44</td>" in printed.replace("\n", "").replace("\t", "")


def test_time_to_all_units_accounted_for_is_shown_only_once_they_are():
	"""Before every unit is accounted for, the form shows no time (not 0 s), as the Recall Report says."""
	meta = frappe.get_meta("Recall")
	assert meta.get_field("accounted_for_seconds").depends_on == "accounted_for_on"
	assert meta.get_field("accounted_for_on").depends_on == "accounted_for_on"
	assert meta.default_print_format == "Recall Report"


def test_the_affected_units_grid_shows_customer_and_quantity_delivered():
	shown = [df.fieldname for df in frappe.get_meta("Recall Affected Unit").fields if df.in_list_view]
	assert {"batch_no", "serial_no", "warehouse", "qty_in_stock", "customer", "qty_delivered"} <= set(shown)
