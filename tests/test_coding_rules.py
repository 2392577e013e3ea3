"""UDI Coding Rules: the lots and serial numbers ERPNext creates in receipts and manufacture entries come
from a pattern configured in the Desk — sequence per period, check character, item before item group,
patterns that cannot fit GS1 / HIBC refused, and no duplicate under concurrent generation."""

import re
import threading
from concurrent.futures import ThreadPoolExecutor

import frappe
import pytest
from biip.checksums import gs1_standard_check_digit
from erpnext.manufacturing.doctype.work_order.work_order import make_stock_entry
from factories import default_warehouse, make_device_identifier, make_item
from frappe.query_builder import DocType
from medtrace.setup.permissions import REGULATORY_AFFAIRS
from medtrace.udi.coding_rules import (
	SEQUENCE_KEY_PREFIX,
	format_number,
	make_numbers,
	name_batch_by_rule,
	preview_next_number,
)
from offline_seed import TEST_ABBR, TEST_COMPANY
from stdnum.iso7064 import mod_37_2, mod_37_36
from test_production_udi import released

pytestmark = pytest.mark.requirement("MT-COD-001")

SUPPLIER = "MT Coding Rule Supplier"


@pytest.fixture
def rule_author():
	"""A Desk user of Regulatory Affairs, who configures numbering."""
	email = "coding.rules@medtrace-test.example"
	user = frappe.get_doc("User", email) if frappe.db.exists("User", email) else frappe.get_doc(
		{"doctype": "User", "email": email, "first_name": "Coding Rules", "send_welcome_email": 0}
	).insert(ignore_permissions=True)
	user.set("roles", [])
	user.add_roles(REGULATORY_AFFAIRS)
	return email


def pattern(*parts) -> list[dict]:
	"""("Text", "L") for a text part, otherwise the part's name."""
	return [{"part": "Text", "text": part[1]} if isinstance(part, tuple) else {"part": part} for part in parts]


def make_rule(parts, **values):
	rule = frappe.new_doc("UDI Coding Rule")
	rule.update({"number_type": "Lot", "applies_to": "Item", "sequence_digits": 4, "sequence_reset": "Yearly", **values})
	for part in parts:
		rule.append("parts", part)
	return rule.insert()


def make_item_group(name: str, parent: str = "Products") -> str:
	if not frappe.db.exists("Item Group", name):
		frappe.get_doc({"doctype": "Item Group", "item_group_name": name, "parent_item_group": parent, "is_group": 1}).insert()
	return name


def purchase_receipt(item_code: str, qty: float, posting_date: str, **row):
	if not frappe.db.exists("Supplier", SUPPLIER):
		frappe.get_doc({"doctype": "Supplier", "supplier_name": SUPPLIER}).insert()
	receipt = frappe.get_doc(
		{"doctype": "Purchase Receipt", "supplier": SUPPLIER, "company": TEST_COMPANY, "currency": "CNY", "conversion_rate": 1,
		 "set_posting_time": 1, "posting_date": posting_date,
		 "items": [{"item_code": item_code, "qty": qty, "rate": 10, "warehouse": default_warehouse(), **row}]}
	).insert()
	receipt.submit()
	return receipt


def material_receipt(item_code: str, qty: float, posting_date: str):
	entry = frappe.get_doc(
		{"doctype": "Stock Entry", "stock_entry_type": "Material Receipt", "company": TEST_COMPANY, "set_posting_time": 1,
		 "posting_date": posting_date,
		 "items": [{"item_code": item_code, "qty": qty, "t_warehouse": default_warehouse(), "basic_rate": 10}]}
	).insert()
	entry.submit()
	return entry


def serial_nos(row) -> list[str]:
	return row.serial_no.split("\n")


@pytest.fixture
def last_year_open():
	"""Postings in 2025 need its fiscal year; ERPNext caches the company's fiscal years and never clears them."""
	if not frappe.db.exists("Fiscal Year", "2025"):
		fiscal_year = frappe.get_doc(
			{"doctype": "Fiscal Year", "year": "2025", "year_start_date": "2025-01-01", "year_end_date": "2025-12-31"}
		)
		fiscal_year.append("companies", {"company": TEST_COMPANY})
		fiscal_year.insert()
	frappe.cache.hdel("fiscal_years", TEST_COMPANY)
	yield
	frappe.cache.hdel("fiscal_years", TEST_COMPANY)


def test_rule_made_in_the_desk_numbers_the_lots_and_serials_of_a_purchase_receipt(rule_author):
	item = make_item(has_batch_no=1, create_new_batch=1, has_serial_no=1)
	frappe.set_user(rule_author)
	lot_rule = make_rule(
		pattern(("Text", "L"), "Julian Date (YYDDD)", "Sequence"), item=item.name, check_character="ISO 7064 Mod 37-36"
	)
	make_rule(
		pattern("Year (YY)", "Month (MM)", "Sequence"),
		number_type="Serial No", item=item.name, sequence_digits=5, sequence_reset="Monthly", check_character="GS1 Mod 10",
	)
	assert lot_rule.owner == rule_author
	frappe.set_user("Administrator")

	first = purchase_receipt(item.name, 3, "2026-11-20").items[0]
	second = purchase_receipt(item.name, 2, "2026-11-20").items[0]

	assert re.fullmatch(r"L263240001[0-9A-Z]", first.batch_no) and mod_37_36.is_valid(first.batch_no)
	assert re.fullmatch(r"L263240002[0-9A-Z]", second.batch_no) and mod_37_36.is_valid(second.batch_no)
	assert [serial[:-1] for serial in serial_nos(first) + serial_nos(second)] == [f"26110000{n}" for n in range(1, 6)]
	for serial in serial_nos(first) + serial_nos(second):
		assert serial[-1] == str(gs1_standard_check_digit(serial[:-1])), serial
	for row in (first, second):
		recorded = frappe.get_all("Serial No", filters={"name": ("in", serial_nos(row))}, fields=["batch_no", "item_code"])
		assert {(serial.batch_no, serial.item_code) for serial in recorded} == {(row.batch_no, item.name)}
		assert len(recorded) == len(serial_nos(row))


@pytest.mark.requirement("MT-UDI-004")
def test_manufacture_entry_numbers_the_finished_lot_and_serials_with_their_udi():
	group = make_item_group("MT Coded Implants")
	raw = make_item(has_batch_no=1, create_new_batch=1)
	material_receipt(raw.name, 20, frappe.utils.today())
	device = make_item(item_group=group, has_batch_no=1, create_new_batch=1, has_serial_no=1)
	released(make_device_identifier(item=device.name, label_serial=1, label_expiry_date=0))
	make_rule(pattern(("Text", "IMP"), "Year (YYYY)", "Month (MM)", ("Text", "-"), "Sequence"),
		applies_to="Item Group", item_group=group, sequence_digits=3, sequence_reset="Monthly")
	make_rule(pattern(("Text", "SN"), "Year (YY)", "Sequence"), number_type="Serial No", item=device.name,
		sequence_digits=6, check_character="ISO 7064 Mod 37-2")
	bom = frappe.get_doc(
		{"doctype": "BOM", "item": device.name, "quantity": 1, "company": TEST_COMPANY,
		 "items": [{"item_code": raw.name, "qty": 2, "rate": 5}]}
	).insert()
	bom.submit()
	work_order = frappe.get_doc(
		{"doctype": "Work Order", "production_item": device.name, "bom_no": bom.name, "qty": 2, "company": TEST_COMPANY,
		 "fg_warehouse": f"Finished Goods - {TEST_ABBR}", "wip_warehouse": f"Work In Progress - {TEST_ABBR}",
		 "source_warehouse": default_warehouse(), "skip_transfer": 1}
	).insert()
	work_order.submit()

	entry = frappe.get_doc(make_stock_entry(work_order.name, "Manufacture", 2))
	entry.insert()
	entry.submit()

	finished = next(row for row in entry.items if row.is_finished_item)
	period = frappe.utils.getdate(entry.posting_date).strftime("%Y%m")
	assert finished.batch_no == f"IMP{period}-001"
	year = period[2:4]
	assert [serial[:-1] for serial in serial_nos(finished)] == [f"SN{year}000001", f"SN{year}000002"]
	assert all(mod_37_2.is_valid(serial) for serial in serial_nos(finished))
	for serial in serial_nos(finished):
		udi = frappe.db.get_value("Serial No", serial, ["batch_no", "udi_element_string"], as_dict=True)
		assert udi.batch_no == finished.batch_no
		assert udi.udi_element_string.endswith(f"(10){finished.batch_no}(21){serial}")


@pytest.mark.parametrize(
	("reset", "parts", "dates", "expected"),
	[
		("Yearly", pattern("Year (YY)", "Sequence"), ["2025-12-31", "2026-01-01", "2025-12-30", "2026-01-02"],
		 ["250001", "260001", "250002", "260002"]),
		("Monthly", pattern("Year (YY)", "Month (MM)", ("Text", "-"), "Sequence"), ["2026-10-30", "2026-11-01", "2026-10-31"],
		 ["2610-0001", "2611-0001", "2610-0002"]),
		("Daily", pattern(("Text", "D"), "Julian Date (YYDDD)", "Sequence"), ["2026-11-01", "2026-11-01", "2026-11-02"],
		 ["D263050001", "D263050002", "D263060001"]),
		("Never", pattern(("Text", "N"), "Sequence"), ["2025-12-31", "2026-01-01"], ["N0001", "N0002"]),
	],
)
@pytest.mark.requirement("MT-COD-002")
def test_sequence_increments_and_restarts_per_period(last_year_open, reset, parts, dates, expected):
	item = make_item(has_batch_no=1, create_new_batch=1)
	make_rule(parts, item=item.name, sequence_reset=reset)
	entries = [material_receipt(item.name, 1, posting_date).name for posting_date in dates]
	assert [frappe.db.get_value("Batch", {"reference_name": entry}) for entry in entries] == expected


@pytest.mark.requirement("MT-COD-002")
def test_week_and_four_digit_year_parts():
	rule = frappe.get_doc(
		{"doctype": "UDI Coding Rule", "sequence_digits": 2, "sequence_reset": "Yearly",
		 "parts": pattern("Year (YYYY)", ("Text", "W"), "Week (WW)", "Day (DD)", "Sequence")}
	)
	assert format_number(rule, frappe.utils.getdate("2026-11-25"), 7) == "2026W482507"


@pytest.mark.parametrize(
	("check_character", "text", "digits", "sequence", "expected"),
	[
		# Published examples of ISO 7064 (python-stdnum's documentation) and a GS1 Mod 10 digit from biip.
		("ISO 7064 Mod 37-2", "G12349865432", 1, 1, "G123498654321H"),
		("ISO 7064 Mod 37-36", "A12425GABC12340", 2, 2, "A12425GABC1234002M"),
		("GS1 Mod 10", "1234567890", 2, 12, f"123456789012{gs1_standard_check_digit('123456789012')}"),
	],
)
@pytest.mark.requirement("MT-COD-002")
def test_check_characters_follow_their_standards(check_character, text, digits, sequence, expected):
	rule = frappe.get_doc(
		{"doctype": "UDI Coding Rule", "check_character": check_character, "sequence_digits": digits,
		 "sequence_reset": "Never", "parts": pattern(("Text", text), "Sequence")}
	)
	assert format_number(rule, frappe.utils.getdate(), sequence) == expected


def test_item_rule_beats_group_rule_and_nearest_group_beats_ancestor():
	parent = make_item_group("MT Coded Parent")
	child = make_item_group("MT Coded Child", parent)
	uncoded = make_item_group("MT Uncoded Child", parent)
	make_rule(pattern(("Text", "PARENT"), "Sequence"), applies_to="Item Group", item_group=parent, sequence_reset="Never")
	make_rule(pattern(("Text", "CHILD"), "Sequence"), applies_to="Item Group", item_group=child, sequence_reset="Never")
	in_child = make_item(item_group=child, has_batch_no=1, create_new_batch=1)
	in_uncoded = make_item(item_group=uncoded, has_batch_no=1, create_new_batch=1)
	with_own = make_item(item_group=child, has_batch_no=1, create_new_batch=1)
	own = make_rule(pattern(("Text", "OWN"), "Sequence"), item=with_own.name, sequence_reset="Never")

	def new_lot(item_code):
		return frappe.get_doc({"doctype": "Batch", "item": item_code}).insert().name

	assert new_lot(in_child.name) == "CHILD0001"
	assert new_lot(in_uncoded.name) == "PARENT0001"
	assert new_lot(with_own.name) == "OWN0001"
	own.enabled = 0
	own.save()
	assert new_lot(with_own.name) == "CHILD0002"


def test_typed_lots_and_serials_are_kept():
	item = make_item(has_batch_no=1, create_new_batch=1, has_serial_no=1)
	make_rule(pattern(("Text", "L"), "Sequence"), item=item.name, sequence_reset="Never")
	make_rule(pattern(("Text", "S"), "Sequence"), number_type="Serial No", item=item.name, sequence_reset="Never")
	supplier_lot = f"SUP{frappe.generate_hash(length=6).upper()}"
	frappe.get_doc({"doctype": "Batch", "item": item.name, "batch_id": supplier_lot}).insert()
	typed = [f"{supplier_lot}-{n}" for n in (1, 2)]
	row = purchase_receipt(item.name, 2, frappe.utils.today(), batch_no=supplier_lot, serial_no="\n".join(typed),
		use_serial_batch_fields=1).items[0]
	assert row.batch_no == supplier_lot and serial_nos(row) == typed


@pytest.mark.parametrize(
	("values", "message"),
	[
		({"parts": pattern(("Text", "LONGPREFIX-"), "Year (YYYY)", "Sequence"), "sequence_digits": 6}, "21 characters long"),
		({"parts": pattern(("Text", "LOT 1"), "Year (YY)", "Sequence")}, "outside the GS1 character set"),
		({"parts": pattern(("Text", "LÖT"), "Year (YY)", "Sequence")}, "outside the GS1 character set"),
		({"parts": pattern(("Text", "L"), "Year (YY)")}, "exactly one Sequence part"),
		({"parts": pattern(("Text", "L"), "Year (YY)", "Month (MM)", "Sequence"), "sequence_reset": "Daily"}, "restarts every day"),
		({"parts": pattern(("Text", "L"), "Sequence"), "sequence_reset": "Yearly"}, "restarts every year"),
		({"parts": pattern(("Text", "L"), "Year (YY)", "Sequence"), "check_character": "GS1 Mod 10"}, "covers only digits"),
		({"parts": pattern(("Text", "L-"), "Year (YY)", "Sequence"), "check_character": "ISO 7064 Mod 37-36"},
		 "digits and upper-case letters"),
		({"parts": pattern("Year (YY)", "Sequence"), "sequence_digits": 11}, "between 1 and 10"),
		({"parts": pattern("Year (YY)", "Sequence"), "number_type": "Serial No"}, "is not serialised"),
	],
)
@pytest.mark.requirement("MT-COD-003")
def test_invalid_patterns_are_refused_with_a_clear_message(values, message):
	item = make_item(has_batch_no=1, create_new_batch=1)
	with pytest.raises(frappe.ValidationError, match=message):
		make_rule(values.pop("parts"), item=item.name, **values)


def hibc_item(group: str = "Products") -> str:
	item = make_item(item_group=group, has_batch_no=1, create_new_batch=1)
	udi_di = f"H{frappe.generate_hash(length=3).upper()}PUMP1"
	make_device_identifier(item=item.name, issuing_agency="HIBCC", udi_di=udi_di)
	return item.name


@pytest.mark.parametrize(
	("values", "message"),
	[
		({"parts": pattern(("Text", "LOTS-"), "Julian Date (YYDDD)", "Sequence"), "sequence_digits": 9},
		 "HIBC allows at most 18 characters"),
		({"parts": pattern(("Text", "lot"), "Year (YY)", "Sequence")}, "upper-case letters, digits"),
		({"parts": pattern(("Text", "L"), "Year (YY)", "Sequence"), "check_character": "ISO 7064 Mod 37-2"},
		 "check character '\\*'"),
	],
)
@pytest.mark.requirement("MT-COD-003")
def test_patterns_an_hibc_label_cannot_carry_are_refused(values, message):
	parts = values.pop("parts")
	with pytest.raises(frappe.ValidationError, match=message):
		make_rule(parts, item=hibc_item(), **values)
	assert make_rule(parts, item=make_item(has_batch_no=1).name, **values), "the same pattern fits a GS1 label"


@pytest.mark.requirement("MT-COD-003")
def test_group_rule_is_checked_against_hibc_items_of_its_subgroups():
	parent = make_item_group("MT HIBC Parent")
	hibc_item(make_item_group("MT HIBC Child", parent))
	with pytest.raises(frappe.ValidationError, match="HIBC allows at most 18"):
		make_rule(pattern(("Text", "GROUPLOT-"), "Year (YY)", "Sequence"), applies_to="Item Group", item_group=parent,
			sequence_digits=8)
	assert make_rule(pattern(("Text", "GROUPLOT-"), "Year (YY)", "Sequence"), applies_to="Item Group", item_group=parent)


@pytest.mark.requirement("MT-COD-003")
def test_second_enabled_rule_for_the_same_item_is_refused():
	item = make_item(has_batch_no=1)
	first = make_rule(pattern("Year (YY)", "Sequence"), item=item.name)
	with pytest.raises(frappe.DuplicateEntryError, match=first.name):
		make_rule(pattern(("Text", "X"), "Year (YY)", "Sequence"), item=item.name)


@pytest.mark.requirement("MT-COD-004")
def test_exhausted_sequence_is_refused_with_a_clear_message():
	item = make_item(has_batch_no=1, create_new_batch=1)
	rule = make_rule(pattern(("Text", "X"), "Sequence"), item=item.name, sequence_digits=1, sequence_reset="Never")
	assert make_numbers(rule.name, 9, frappe.utils.today())[-1] == "X9"
	with pytest.raises(frappe.ValidationError, match="used all 1-digit sequence numbers"):
		frappe.get_doc({"doctype": "Batch", "item": item.name}).insert()


@pytest.mark.requirement("MT-COD-003")
def test_preview_shows_the_next_number_without_taking_it(rule_author):
	item = make_item(has_batch_no=1, create_new_batch=1)
	rule = make_rule(pattern(("Text", "P"), "Year (YY)", "Sequence"), item=item.name)
	year = frappe.utils.getdate().strftime("%y")
	frappe.set_user(rule_author)
	assert preview_next_number(rule.as_dict()) == {"number": f"P{year}0001", "length": 7}
	assert preview_next_number(rule.as_dict())["number"] == f"P{year}0001"
	frappe.set_user("Administrator")
	assert frappe.get_doc({"doctype": "Batch", "item": item.name}).insert().name == f"P{year}0001"
	assert preview_next_number(rule.as_dict())["number"] == f"P{year}0002"

	unsaved = {"doctype": "UDI Coding Rule", "sequence_digits": 4, "sequence_reset": "Yearly", "parts": pattern(("Text", "P"))}
	assert "exactly one Sequence part" in preview_next_number(unsaved)["error"]

	frappe.set_user("Guest")
	with pytest.raises(frappe.PermissionError):
		preview_next_number(unsaved)


@pytest.mark.requirement("MT-COD-004")
def test_concurrent_generation_never_duplicates_a_number(test_site):
	"""Two connections take numbers of a rule's new period at the same moment and keep taking them."""
	item = make_item(has_batch_no=1, create_new_batch=1)
	rule = make_rule(pattern(("Text", "C"), "Julian Date (YYDDD)", "Sequence"), item=item.name, sequence_reset="Daily")
	frappe.db.commit()
	start = threading.Barrier(2)
	sites_path = frappe.local.sites_path

	def take_numbers() -> list[str]:
		frappe.init(site=test_site, sites_path=sites_path)
		frappe.connect()
		frappe.set_user("Administrator")
		try:
			start.wait(timeout=60)
			made = []
			for _ in range(20):
				batch = frappe.new_doc("Batch")
				batch.item = item.name
				name_batch_by_rule(batch)
				frappe.db.commit()
				made.append(batch.batch_id)
			return made
		finally:
			frappe.destroy()

	try:
		with ThreadPoolExecutor(max_workers=2) as pool:
			connections = [pool.submit(take_numbers) for _ in range(2)]
			made = [number for connection in connections for number in connection.result(timeout=120)]
		assert len(made) == 40 and len(set(made)) == 40
		assert sorted(int(number[6:]) for number in made) == list(range(1, 41))
	finally:
		frappe.db.rollback()
		Series = DocType("Series")
		frappe.qb.from_(Series).delete().where(Series.name.like(f"{SEQUENCE_KEY_PREFIX}{rule.name}-%")).run()
		frappe.delete_doc("UDI Coding Rule", rule.name, force=True)
		frappe.delete_doc("Item", item.name, force=True)
		frappe.db.commit()
