"""Packages: SSCCs against GS1's published example, serial numbers packed into cases and cases onto a pallet by
scanning their labels, unpacking and repacking with the history kept, a Stock Entry's output packed into
cases and pallets, a pallet shipped by its SSCC with every unit inside delivered and the recall hold and the
DHR release gate enforced inside, a unit leaving alone breaking its case open, and the WMS messages."""

import frappe
import pytest

from factories import (
	make_customer,
	make_delivery,
	make_device_identifier,
	make_integration_system,
	make_item,
	receive_stock,
	released,
	signed_workflow_action,
)
from medtrace.medtrace_integrations.handlers import HANDLERS
from medtrace.medtrace_integrations.inbound import validate_message
from medtrace.packaging.packing import pack_scans, package_path, package_units, remove_scans, unpack_package
from medtrace.packaging.production import pack_stock_entry
from medtrace.packaging.shipping import add_packages_to_delivery_note, package_rows
from medtrace.packaging.sscc import build_sscc, is_valid_sscc, next_sscc, validate_sscc
from offline_seed import TEST_ABBR, TEST_COMPANY
from test_recall import refusal

pytestmark = pytest.mark.requirement("MT-PKG-001")

STORES, FINISHED = f"Stores - {TEST_ABBR}", f"Finished Goods - {TEST_ABBR}"
COMPANY_PREFIX = "0695999"


@pytest.fixture(autouse=True)
def company_prefix():
	settings = frappe.get_single("MedTrace Settings")
	settings.gs1_company_prefix = COMPANY_PREFIX
	settings.sscc_extension_digit = 3
	settings.save()


def serialised_device(count: int, per_case: int = 3) -> frappe._dict:
	"""A serialised, lot-tracked device with a released base-unit DI and case DI, `count` units in Stores."""
	item = make_item(has_batch_no=1, create_new_batch=1, has_serial_no=1,
	                 serial_no_series=f"PK{frappe.generate_hash(length=5).upper()}-.####")
	base = released(make_device_identifier(item=item.name, label_serial=1, label_expiry_date=0))
	case = released(make_device_identifier(item=item.name, packaging_level="Case", contained_di=base.name,
	                                       quantity_per_package=per_case, label_expiry_date=0))
	receive_stock(item.name, qty=count)
	serials = frappe.get_all("Serial No", filters={"item_code": item.name}, pluck="name", order_by="name")
	return frappe._dict(item=item.name, base=base.name, case=case.name, serials=serials,
	                    lot=frappe.db.get_value("Serial No", serials[0], "batch_no"))


def unit_label(serial_no: str) -> str:
	return frappe.db.get_value("Serial No", serial_no, "udi_element_string")


def new_package(level: str = "Case", warehouse: str = STORES, **values) -> "frappe.Document":
	return frappe.get_doc({"doctype": "Package", "packaging_level": level, "company": TEST_COMPANY, "warehouse": warehouse, **values}).insert()


def sscc_label(package) -> str:
	return f"(00){frappe.db.get_value('Package', package, 'sscc')}"


def events(package) -> list[str]:
	return frappe.get_all("Package Event", filters={"package": package}, pluck="event_type", order_by="creation, event_time")


# SSCC


def test_sscc_check_digit_matches_gs1_published_example():
	# GS1 EPC Tag Data Standard: urn:epc:id:sscc:0614141.1234567890 is SSCC 106141412345678908.
	assert build_sscc("1", "0614141", 234567890) == "106141412345678908"
	assert is_valid_sscc("106141412345678908")
	assert not is_valid_sscc("106141412345678907")
	with pytest.raises(frappe.ValidationError, match="check digit 7; it should be 8"):
		validate_sscc("106141412345678907")
	with pytest.raises(frappe.ValidationError, match="exactly 18 digits"):
		validate_sscc("10614141234567890")


def test_ssccs_come_from_the_company_prefix_and_never_repeat():
	first, second = next_sscc(), next_sscc()
	assert first != second
	for sscc in (first, second):
		assert sscc.startswith("3" + COMPANY_PREFIX) and is_valid_sscc(sscc)
	assert int(second[8:17]) == int(first[8:17]) + 1
	with pytest.raises(frappe.ValidationError, match="used all 9-digit serial references"):
		build_sscc("3", COMPANY_PREFIX, 10**9)
	settings = frappe.get_single("MedTrace Settings")
	settings.gs1_company_prefix = "12AB"
	with pytest.raises(frappe.ValidationError, match="must be 6 to 12 digits"):
		settings.save()


# Packing


def test_serials_packed_into_cases_and_cases_onto_a_pallet_by_scanning():
	device = serialised_device(6)
	cases = [new_package(identified_by="SSCC and Package UDI", udi_device_identifier=device.case) for _case in range(2)]
	for case, serials in zip(cases, (device.serials[:3], device.serials[3:]), strict=True):
		pack_scans(case.name, "\n".join(unit_label(serial) for serial in serials))
	pallet = new_package("Pallet")
	pack_scans(pallet.name, [sscc_label(cases[0].name), cases[1].package_udi])

	pallet.reload()
	assert pallet.status == "Packed" and pallet.total_units == 6
	assert (pallet.content_item, pallet.content_lot, pallet.content_gtin) == (device.item, device.lot, device.base)
	assert sorted(unit.serial_no for unit in package_units(pallet.name)) == device.serials
	case = frappe.get_doc("Package", cases[0].name)
	assert case.parent_package == pallet.name and case.package_udi.startswith(f"(01){device.case}(21)")
	assert package_path(case.name) == [case.name, pallet.name]
	assert events(case.name) == ["Pack"] and events(pallet.name) == ["Pack"]
	event = frappe.get_doc("Package Event", {"package": case.name})
	assert event.user == "Administrator" and sorted(row.serial_no for row in event.items) == device.serials[:3]


def test_packing_refuses_what_cannot_be_packed():
	device = serialised_device(5)
	case = new_package(identified_by="SSCC and Package UDI", udi_device_identifier=device.case)
	pack_scans(case.name, [unit_label(device.serials[0])])
	other = new_package()
	assert f"already in package {case.name}" in refusal(lambda: pack_scans(other.name, [unit_label(device.serials[0])]))
	assert "listed more than once" in refusal(lambda: pack_scans(other.name, [unit_label(device.serials[1])] * 2))
	assert "holds 3; package" in refusal(lambda: pack_scans(case.name, [unit_label(serial) for serial in device.serials[1:4]]))
	pallet = new_package("Pallet")
	pack_scans(pallet.name, [sscc_label(case.name)])
	assert "cannot go into itself" in refusal(lambda: pack_scans(case.name, [sscc_label(pallet.name)]))
	elsewhere = new_package("Pallet", warehouse=FINISHED)
	assert "not in warehouse" in refusal(lambda: pack_scans(elsewhere.name, [unit_label(device.serials[1])]))
	lots = make_item(has_batch_no=1, create_new_batch=1)
	receive_stock(lots.name, qty=10)
	lot = frappe.db.get_value("Batch", {"item": lots.name})
	pack_scans(other.name, [{"scan": lot, "qty": 8}])
	assert "Only 2 of lot" in refusal(lambda: pack_scans(new_package().name, [{"scan": lot, "qty": 3}]))
	assert "SSCC" in refusal(lambda: pack_scans(other.name, ["(00)106141412345678907"]))


def test_unpacking_and_repacking_keep_the_history():
	device = serialised_device(3)
	case = new_package(identified_by="SSCC and Package UDI", udi_device_identifier=device.case)
	pack_scans(case.name, [unit_label(serial) for serial in device.serials])
	pallet = new_package("Pallet")
	pack_scans(pallet.name, [sscc_label(case.name)])

	remove_scans(case.name, [unit_label(device.serials[0])])
	assert frappe.db.get_value("Package", case.name, ["status", "broken_open", "total_units"]) == ("Packed", 1, 2)
	assert frappe.db.get_value("Package", pallet.name, ["broken_open", "total_units"]) == (1, 2)
	unpack_package(case.name)
	assert frappe.db.get_value("Package", case.name, ["status", "parent_package"]) == ("Unpacked", None)
	assert frappe.db.get_value("Package", pallet.name, "status") == "Unpacked"
	assert events(case.name) == ["Pack", "Remove", "Unpack"] and events(pallet.name) == ["Pack", "Unpack"]

	repacked = new_package(identified_by="SSCC and Package UDI", udi_device_identifier=device.case)
	pack_scans(repacked.name, [unit_label(serial) for serial in device.serials])
	assert repacked.sscc != case.sscc and repacked.package_serial != case.package_serial
	assert "is Unpacked" in refusal(lambda: pack_scans(case.name, [unit_label(device.serials[0])]))


def test_contents_and_status_change_only_by_packing():
	device = serialised_device(1)
	case = new_package()
	case.append("contents", {"content_type": "Serial No", "serial_no": device.serials[0], "qty": 1})
	assert "change only by packing" in refusal(case.save)
	case.reload()
	case.status = "Shipped"
	assert "change only by packing" in refusal(case.save)
	with pytest.raises(frappe.ValidationError, match="A new package is empty"):
		frappe.get_doc({"doctype": "Package", "company": TEST_COMPANY, "warehouse": STORES,
		                "contents": [{"content_type": "Serial No", "serial_no": device.serials[0], "qty": 1}]}).insert()
	with pytest.raises(frappe.ValidationError, match="needs a packaging-level UDI-DI"):
		new_package(identified_by="Package UDI")
	with pytest.raises(frappe.ValidationError, match="packaging level"):
		new_package(identified_by="SSCC and Package UDI", udi_device_identifier=device.base)


def test_a_stock_entrys_output_packed_into_cases_and_pallets():
	item = make_item(has_batch_no=1, create_new_batch=1)
	entry = receive_stock(item.name, qty=10)
	packed = pack_stock_entry(entry.name, units_per_case=4, cases_per_pallet=2)
	assert len(packed["cases"]) == 3 and len(packed["pallets"]) == 2
	assert [frappe.db.get_value("Package", case, "total_units") for case in packed["cases"]] == [4, 4, 2]
	assert [frappe.db.get_value("Package", pallet, "total_units") for pallet in packed["pallets"]] == [8, 2]
	assert frappe.get_all("Package Event", filters={"package": packed["cases"][0]}, pluck="reference_name") == [entry.name]
	assert "nothing that is still in stock and unpacked" in refusal(lambda: pack_stock_entry(entry.name, units_per_case=4))


# Shipping


def ship_by_scan(customer: str, *scans):
	"""A Delivery Note filled as the Desk fills it: the scanned packages' units added to the draft, then saved."""
	note = frappe.new_doc("Delivery Note")
	note.update({"customer": customer, "company": TEST_COMPANY, "currency": "CNY", "conversion_rate": 1})
	note = frappe.get_doc(add_packages_to_delivery_note(note.as_dict(), list(scans)))
	for row in note.items:
		row.rate = 100
	return note.insert()


@pytest.mark.requirement("MT-PKG-002")
def test_a_pallet_ships_by_its_sscc_with_every_unit_inside():
	device = serialised_device(6)
	cases = [new_package() for _case in range(2)]
	pack_scans(cases[0].name, [unit_label(serial) for serial in device.serials[:3]])
	pack_scans(cases[1].name, [unit_label(serial) for serial in device.serials[3:]])
	pallet = new_package("Pallet")
	pack_scans(pallet.name, [sscc_label(case.name) for case in cases])
	customer = make_customer()

	assert "inside package" in refusal(lambda: ship_by_scan(customer, sscc_label(cases[0].name)))
	note = ship_by_scan(customer, sscc_label(pallet.name))
	assert {row.medtrace_package for row in note.items} == {pallet.name}
	note.submit()
	assert set(frappe.get_all("Serial No", filters={"name": ("in", device.serials)}, pluck="status")) == {"Delivered"}
	for package in (pallet.name, *[case.name for case in cases]):
		assert frappe.db.get_value("Package", package, ["status", "customer", "delivery_note"]) == ("Shipped", customer, note.name)
	assert events(pallet.name) == ["Pack", "Ship"]
	assert "is Shipped" in refusal(lambda: ship_by_scan(customer, sscc_label(pallet.name)))

	note.cancel()
	assert frappe.db.get_value("Package", pallet.name, ["status", "customer", "warehouse"]) == ("Packed", None, STORES)
	assert events(pallet.name)[-1] == "Cancel Shipment"


@pytest.mark.requirement("MT-PKG-002", "MT-RCL-002", "MT-DHR-003")
def test_the_recall_hold_and_the_release_gate_apply_inside_a_package():
	device = serialised_device(3)
	case = new_package()
	pack_scans(case.name, [unit_label(serial) for serial in device.serials])
	customer = make_customer()

	recall = frappe.get_doc(
		{"doctype": "Recall", "title": "Packed serial", "classification": "Class II", "trigger": "Internal Finding",
		 "reason": "x", "scope": [{"serial_no": device.serials[1]}]}
	).insert()
	signed_workflow_action(recall, "Scope Recall")
	message = refusal(lambda: ship_by_scan(customer, sscc_label(case.name)).submit())
	assert "on hold for a recall" in message and device.serials[1] in message
	frappe.db.set_value("Recall Hold", {"recall": recall.name}, "status", "Released")

	frappe.get_doc({"doctype": "Device Master Record", "item": device.item, "revision": "A"}).insert()
	message = refusal(lambda: ship_by_scan(customer, sscc_label(case.name)).submit())
	assert "Device History Record is not released" in message
	assert frappe.db.get_value("Package", case.name, "status") == "Packed"


def test_a_unit_leaving_alone_breaks_its_case_open():
	device = serialised_device(3)
	case = new_package()
	pack_scans(case.name, [unit_label(serial) for serial in device.serials])
	note = frappe.new_doc("Delivery Note")
	note.update({"customer": make_customer(), "company": TEST_COMPANY, "currency": "CNY", "conversion_rate": 1})
	note.append("items", {"item_code": device.item, "qty": 1, "rate": 100, "warehouse": STORES, "use_serial_batch_fields": 1,
	                      "serial_no": device.serials[0]})
	note.insert()
	note.submit()
	assert frappe.db.get_value("Package", case.name, ["status", "broken_open", "total_units"]) == ("Packed", 1, 2)
	removal = frappe.get_doc("Package Event", {"package": case.name, "event_type": "Remove"})
	assert removal.reference_name == note.name and removal.items[0].serial_no == device.serials[0]


@pytest.mark.requirement("MT-PKG-002", "MT-TRC-001")
def test_a_unit_sold_on_an_invoice_that_updates_stock_leaves_its_case_for_the_customer():
	device = serialised_device(3)
	case = new_package()
	pack_scans(case.name, [unit_label(serial) for serial in device.serials])
	customer = make_customer()
	invoice = make_delivery(customer, device.item, 1, STORES, doctype="Sales Invoice", serial_no=device.serials[0])
	assert frappe.db.get_value("Package", case.name, ["status", "broken_open", "total_units"]) == ("Packed", 1, 2)
	removal = frappe.get_doc("Package Event", {"package": case.name, "event_type": "Remove"})
	assert removal.reference_name == invoice.name and removal.items[0].serial_no == device.serials[0]
	assert frappe.get_all(
		"Trace Link", filters={"voucher_type": "Sales Invoice", "voucher_no": invoice.name, "voided": 0},
		fields=["from_node", "direction", "to_node"],
	) == [{"from_node": f"Serial No::{device.serials[0]}", "direction": "Out", "to_node": f"Customer::{customer}"}]


def test_a_material_transfer_moves_the_package_and_what_is_inside():
	device = serialised_device(3)
	case = new_package()
	pack_scans(case.name, [unit_label(serial) for serial in device.serials])
	pallet = new_package("Pallet")
	pack_scans(pallet.name, [sscc_label(case.name)])
	entry = frappe.new_doc("Stock Entry")
	entry.update({"stock_entry_type": "Material Transfer", "company": TEST_COMPANY})
	for row in package_rows(frappe.get_doc("Package", pallet.name), s_warehouse=STORES, t_warehouse=FINISHED):
		entry.append("items", row)
	entry.insert()
	entry.submit()
	assert frappe.db.get_value("Package", pallet.name, "warehouse") == FINISHED
	assert frappe.db.get_value("Package", case.name, "warehouse") == FINISHED
	assert events(pallet.name) == ["Pack", "Move"]


# WMS messages


@pytest.fixture(scope="module")
def wms(test_site):
	return make_integration_system("WMS", ("MedTrace Warehouse Operator", "Stock User", "Sales User"))


def process(wms, message_type: str, payload: dict) -> list:
	"""What the inbound API does with a message: checked on arrival, applied by the worker as the API user."""
	system = frappe.get_doc("Integration System", wms.name)
	message_id = frappe.generate_hash(length=8)
	log = frappe.get_doc({"doctype": "Integration Message", "integration_system": system.name, "message_type": message_type,
	                      "client_message_id": message_id, "status": "Queued"})
	log.name = f"{system.name}:{message_id}"
	log.db_insert()
	frappe.set_user(wms.api_user)
	try:
		message = validate_message(system, message_type, payload)
		_check, apply = HANDLERS[message_type]
		return apply(message, system, message_id)
	finally:
		frappe.set_user("Administrator")


@pytest.mark.requirement("MT-PKG-002", "MT-INT-002")
def test_wms_packs_unpacks_and_picks_by_sscc(wms):
	device = serialised_device(4)
	package, event = process(wms, "wms.pack.v1", {"packaging_level": "Case", "lines": [{"udi": unit_label(s)} for s in device.serials[:2]]})
	assert package.status == "Packed" and package.total_units == 2 and event.reference_doctype == "Integration Message"
	own = build_sscc("9", "0614141", 77)
	pallet, _event = process(wms, "wms.pack.v1", {"sscc": own, "packaging_level": "Pallet", "lines": [{"udi": f"(00){package.sscc}"}]})
	assert pallet.name == own and pallet.total_units == 2

	assert "check digit" in refusal(lambda: process(wms, "wms.pack.v1", {"sscc": own[:-1] + str((int(own[-1]) + 1) % 10), "lines": [{"udi": unit_label(device.serials[2])}]}))
	assert "already in package" in refusal(lambda: process(wms, "wms.pack.v1", {"lines": [{"udi": unit_label(device.serials[0])}]}))
	assert "inside package" in refusal(
		lambda: process(wms, "wms.pick.v1", {"customer": make_customer(), "lines": [{"udi": f"(00){package.sscc}"}]})
	)
	process(wms, "wms.unpack.v1", {"package": f"(00){own}", "lines": [{"udi": f"(00){package.sscc}"}]})
	assert frappe.db.get_value("Package", own, "status") == "Unpacked"

	customer = make_customer()
	(note,) = process(wms, "wms.pick.v1", {"customer": customer, "lines": [{"udi": f"https://id.gs1.org/00/{package.sscc}"}]})
	assert sorted(row.serial_no for row in note.items) == device.serials[:2]
	assert frappe.db.get_value("Package", package.name, ["status", "customer"]) == ("Shipped", customer)
	assert "is Shipped" in refusal(lambda: process(wms, "wms.unpack.v1", {"package": package.sscc}))


# Scanning and labels


@pytest.mark.requirement("MT-PKG-002", "MT-SCN-001")
def test_udi_scan_resolves_a_package_label_to_everything_inside():
	from medtrace.udi.scan import resolve_scan, scan_label

	device = serialised_device(6)
	cases = [new_package(identified_by="SSCC and Package UDI", udi_device_identifier=device.case) for _case in range(2)]
	pack_scans(cases[0].name, [unit_label(serial) for serial in device.serials[:3]])
	pack_scans(cases[1].name, [unit_label(serial) for serial in device.serials[3:]])
	pallet = new_package("Pallet")
	pack_scans(pallet.name, [sscc_label(case.name) for case in cases])
	sscc = frappe.db.get_value("Package", pallet.name, "sscc")

	for scan in (f"]C100{sscc}", f"(00){sscc}", sscc, f"https://id.gs1.org/00/{sscc}"):
		result = resolve_scan(scan)
		assert (result["status"], result["package"], result["item"]) == ("resolved", pallet.name, device.item), scan
		assert sorted(unit.serial_no for unit in result["units"]) == device.serials
		assert [child["name"] for child in result["contents"]["packages"]] == [case.name for case in cases]
	case_scan = resolve_scan(frappe.db.get_value("Package", cases[0].name, "package_udi"))
	assert case_scan["package"] == cases[0].name and f"inside package {pallet.name}" in " ".join(case_scan["warnings"])
	assert resolve_scan(unit_label(device.serials[0]))["serial_no"] == device.serials[0]
	unknown = build_sscc("3", COMPANY_PREFIX, 999999999)
	assert resolve_scan(f"(00){unknown}")["status"] == "unknown"
	assert scan_label(f"(00){unknown[:-1]}{(int(unknown[-1]) + 1) % 10}")["status"] == "unreadable"


@pytest.mark.requirement("MT-PKG-003")
def test_logistics_label_decodes_to_sscc_content_count_and_lot(web_server):
	import io

	from pypdf import PdfReader
	from test_labels import gs1, pdf_pages, symbols

	from medtrace.packaging.labels import download_package_labels

	device = serialised_device(3)
	case = new_package(identified_by="SSCC and Package UDI", udi_device_identifier=device.case)
	pack_scans(case.name, [unit_label(serial) for serial in device.serials])
	case.reload()
	download_package_labels(case.name, copies=2)
	pdf = frappe.local.response.filecontent
	document = PdfReader(io.BytesIO(pdf))
	assert len(document.pages) == 2
	assert [round(float(document.pages[0].mediabox.width) / 72 * 25.4), round(float(document.pages[0].mediabox.height) / 72 * 25.4)] == [100, 150]
	found = symbols(pdf_pages(pdf)[0])
	assert sorted(found) == ["Code128", "DataMatrix", "QRCode"], sorted(found)
	linear = [gs1(symbol.text) for symbol in found["Code128"]]
	assert all(symbol.symbology_identifier == "]C1" for symbol in found["Code128"])
	assert linear == [[("02", device.base), ("37", "3"), ("10", device.lot)], [("00", case.sscc)]]
	(datamatrix,) = found["DataMatrix"]
	assert datamatrix.symbology_identifier == "]d2"
	assert gs1(datamatrix.text.rstrip("\x1d")) == [("01", device.case), ("10", device.lot), ("21", case.package_serial)]
	assert found["QRCode"][0].text == f"https://id.gs1.org/00/{case.sscc}"
	log = frappe.get_all("UDI Label Log", filters={"reference_doctype": "Package", "reference_name": case.name},
	                     fields=["print_format", "labels", "copies", "identifiers"])
	assert log == [{"print_format": "Package Label", "labels": 1, "copies": 2, "identifiers": f"(00){case.sscc}"}]
	assert "is empty" in refusal(lambda: download_package_labels(new_package().name))


# Recall


@pytest.mark.requirement("MT-RCL-008")
def test_a_recall_lists_the_packages_to_pull_per_warehouse_and_customer():
	from medtrace.packaging.recall import packages_holding, packages_to_pull
	from medtrace.traceability.api import get_trace

	device = serialised_device(6)
	cases = [new_package() for _case in range(2)]
	pack_scans(cases[0].name, [unit_label(serial) for serial in device.serials[:3]])
	pack_scans(cases[1].name, [unit_label(serial) for serial in device.serials[3:]])
	pallet = new_package("Pallet")
	pack_scans(pallet.name, [sscc_label(cases[0].name)])
	customer = make_customer()
	ship_by_scan(customer, sscc_label(pallet.name)).submit()
	remove_scans(cases[1].name, [unit_label(device.serials[5])])

	recall = frappe.get_doc(
		{"doctype": "Recall", "title": "Packed lot", "classification": "Class II", "trigger": "Internal Finding",
		 "reason": "x", "scope": [{"batch_no": device.lot}]}
	).insert()
	signed_workflow_action(recall, "Scope Recall")
	to_pull = packages_to_pull(recall.name)
	(shipped,) = to_pull["customers"][customer]
	assert (shipped["outer_package"], shipped["intact"], shipped["qty"], shipped["path"]) == (pallet.name, True, 3, [cases[0].name, pallet.name])
	(in_stock,) = to_pull["warehouses"][STORES]
	assert (in_stock["outer_package"], in_stock["intact"], in_stock["qty"]) == (cases[1].name, False, 2)

	traced = packages_holding([node["node"] for node in get_trace(device.lot, direction="forward")["nodes"]])
	assert traced["paths"][device.serials[0]] == [[cases[0].name, pallet.name]]
	assert traced["paths"][device.serials[3]] == [[cases[1].name]]
	assert device.serials[5] not in traced["paths"]
	assert [(shipped["outer_package"], shipped["intact"]) for shipped in traced["customers"][customer]] == [(pallet.name, True)]
