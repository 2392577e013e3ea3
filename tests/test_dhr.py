"""Device History Records through a real Work Order: assembled live, checked against the DMR, released
by e-signature, frozen afterwards, and required before delivery."""

import frappe
import pytest
from erpnext.manufacturing.doctype.work_order.work_order import make_stock_entry

from factories import (
	SIGNING_PASSWORD,
	can_sign,
	default_warehouse,
	make_customer,
	make_delivery,
	make_device_identifier,
	make_item,
	receive_stock,
	released,
)
from medtrace.quality.dhr import download_dhr_pdf, release_device_history_record
from medtrace.signatures.esignature import SignatureError
from medtrace.setup.permissions import QUALITY_APPROVER, QUALITY_ENGINEER
from offline_seed import TEST_ABBR, TEST_COMPANY
from test_recall import refusal
from test_roles import user_with_role  # noqa: F401 (fixture)

pytestmark = pytest.mark.requirement("MT-DHR-001")

WIP = f"Work In Progress - {TEST_ABBR}"
FINISHED = f"Finished Goods - {TEST_ABBR}"


def make_inspection_template(name: str, parameter: str, low: float, high: float) -> str:
	if not frappe.db.exists("Quality Inspection Parameter", parameter):
		frappe.get_doc({"doctype": "Quality Inspection Parameter", "parameter": parameter}).insert()
	if not frappe.db.exists("Quality Inspection Template", name):
		frappe.get_doc(
			{
				"doctype": "Quality Inspection Template",
				"quality_inspection_template_name": name,
				"item_quality_inspection_parameter": [
					{"specification": parameter, "numeric": 1, "min_value": low, "max_value": high}
				],
			}
		).insert()
	return name


def inspect(batch_no: str, item_code: str, template: str, reading: float, stock_entry: str):
	inspection = frappe.get_doc(
		{
			"doctype": "Quality Inspection",
			"inspection_type": "In Process",
			"reference_type": "Stock Entry",
			"reference_name": stock_entry,
			"item_code": item_code,
			"batch_no": batch_no,
			"sample_size": 1,
			"inspected_by": "Administrator",
			"quality_inspection_template": template,
		}
	)
	inspection.get_item_specification_details()
	inspection.readings[0].reading_1 = str(reading)
	inspection.insert()
	inspection.submit()
	return inspection


def record_parameter(value: float, **against):
	return frappe.get_doc(
		{"doctype": "Process Parameter Record", "parameter": "Sealing Temperature", "value": value, "unit": "°C",
		 "lower_limit": "170", "upper_limit": "190", **against}
	).insert()


@pytest.fixture
def production():
	"""A serialised, batch-tracked device made by a Work Order from a batch-tracked raw material."""
	raw = make_item(has_batch_no=1, create_new_batch=1)
	receive_stock(raw.name, qty=50)
	device = make_item(has_batch_no=1, has_serial_no=1, create_new_batch=1, serial_no_series="DH-.######")
	released(make_device_identifier(item=device.name, label_serial=1, label_expiry_date=0))
	bom = frappe.get_doc(
		{"doctype": "BOM", "item": device.name, "quantity": 1, "company": TEST_COMPANY,
		 "items": [{"item_code": raw.name, "qty": 2, "rate": 5}]}
	).insert()
	bom.submit()
	leak = make_inspection_template("MT Final Leak Test", "Leak Rate", 0, 0.5)
	visual = make_inspection_template("MT Visual Inspection", "Visual Defects", 0, 0)
	frappe.get_doc(
		{"doctype": "Device Master Record", "item": device.name, "bom": bom.name, "revision": "B",
		 "requirements": [
			 {"requirement_type": "Quality Inspection", "quality_inspection_template": leak},
			 {"requirement_type": "Quality Inspection", "quality_inspection_template": visual},
			 {"requirement_type": "Process Parameter", "parameter": "Sealing Temperature"},
		 ]}
	).insert()
	work_order = frappe.get_doc(
		{"doctype": "Work Order", "production_item": device.name, "bom_no": bom.name, "qty": 3, "company": TEST_COMPANY,
		 "wip_warehouse": WIP, "fg_warehouse": FINISHED, "source_warehouse": default_warehouse(),
		 "skip_transfer": 0}
	).insert()
	work_order.submit()
	return frappe._dict(raw=raw.name, device=device.name, bom=bom.name, work_order=work_order.name, leak=leak, visual=visual)


def run_stock_entry(work_order: str, purpose: str, qty: float):
	entry = frappe.get_doc(make_stock_entry(work_order, purpose, qty))
	entry.insert()
	entry.submit()
	return entry


def release_as(user: str, dhr: str, password: str = SIGNING_PASSWORD):
	frappe.set_user(user)
	try:
		return release_device_history_record(dhr, password=password, reason="Lot reviewed")
	finally:
		frappe.set_user("Administrator")


@pytest.mark.requirement("MT-DHR-005")
def test_dhr_assembles_and_gates_release(production, user_with_role):
	approver = can_sign(user_with_role(QUALITY_APPROVER))
	run_stock_entry(production.work_order, "Material Transfer for Manufacture", 3)
	opened = frappe.get_all("Device History Record", filters={"work_order": production.work_order}, fields=["name", "batch_no"])
	assert len(opened) == 1 and not opened[0].batch_no

	record_parameter(182, work_order=production.work_order)
	manufacture = run_stock_entry(production.work_order, "Manufacture", 3)

	lot_dhr = frappe.get_doc("Device History Record", opened[0].name)
	assert lot_dhr.batch_no
	serial_dhrs = frappe.get_all("Device History Record", filters={"lot_dhr": lot_dhr.name}, pluck="serial_no")
	assert len(serial_dhrs) == 3
	assert [(c.item_code, c.qty) for c in lot_dhr.components] == [(production.raw, 6)]
	assert [p.value for p in lot_dhr.parameters] == [182]

	inspect(lot_dhr.batch_no, production.device, production.leak, 0.2, manufacture.name)
	lot_dhr.reload()
	assert [i.template for i in lot_dhr.inspections] == [production.leak]
	assert lot_dhr.status == "Open"
	assert "MT Visual Inspection" in lot_dhr.missing
	with pytest.raises(frappe.ValidationError, match="Not complete, so it cannot be released.*MT Visual Inspection"):
		release_as(approver, lot_dhr.name)

	record_parameter(195, batch_no=lot_dhr.batch_no)
	lot_dhr.reload()
	assert "out of specification" in lot_dhr.missing
	assert "195" in lot_dhr.deviations

	inspect(lot_dhr.batch_no, production.device, production.visual, 0, manufacture.name)
	non_conformance = frappe.get_doc(
		{"doctype": "Non Conformance", "subject": "Seal temperature overshoot", "procedure": None, "status": "Open",
		 "medtrace_batch_no": lot_dhr.batch_no}
	)
	non_conformance.flags.ignore_mandatory = True
	non_conformance.insert()
	lot_dhr.reload()
	assert "is open" in lot_dhr.missing
	with pytest.raises(frappe.ValidationError, match="Not complete, so it cannot be released.*is open"):
		release_as(approver, lot_dhr.name)
	non_conformance.status = "Resolved"
	non_conformance.save()
	lot_dhr.reload()
	assert lot_dhr.status == "Complete", lot_dhr.missing


def complete_lot(production):
	run_stock_entry(production.work_order, "Material Transfer for Manufacture", 3)
	record_parameter(182, work_order=production.work_order)
	manufacture = run_stock_entry(production.work_order, "Manufacture", 3)
	lot_dhr = frappe.get_doc("Device History Record", {"work_order": production.work_order, "serial_no": ("is", "not set")})
	leak = inspect(lot_dhr.batch_no, production.device, production.leak, 0.2, manufacture.name)
	inspect(lot_dhr.batch_no, production.device, production.visual, 0, manufacture.name)
	lot_dhr.reload()
	assert lot_dhr.status == "Complete", lot_dhr.missing
	return lot_dhr, leak


@pytest.mark.requirement("MT-DHR-002", "MT-DHR-003", "MT-SIG-001")
def test_release_is_a_signature_and_freezes_the_dhr(production, user_with_role):
	lot_dhr, leak = complete_lot(production)
	approver = can_sign(user_with_role(QUALITY_APPROVER))
	engineer = can_sign(user_with_role(QUALITY_ENGINEER))
	serial = frappe.get_all("Serial No", filters={"item_code": production.device}, pluck="name")[0]
	customer = make_customer()
	frappe.db.savepoint("refused_delivery")
	with pytest.raises(frappe.ValidationError, match="Device History Record is not released"):
		make_delivery(customer, production.device, 1, FINISHED, serial_no=serial)
	# What the refused request's rollback does: ERPNext had moved the serial number before the refusal.
	frappe.db.rollback(save_point="refused_delivery")

	with pytest.raises(frappe.PermissionError, match="Only a MedTrace Quality Approver"):
		release_as(engineer, lot_dhr.name)
	with pytest.raises(SignatureError, match="Wrong password"):
		release_as(approver, lot_dhr.name, password="not-the-password")
	assert frappe.db.count("Electronic Signature Attempt", {"user": approver, "outcome": "Failed", "reference_name": lot_dhr.name}) == 1
	assert frappe.db.get_value("Device History Record", lot_dhr.name, "status") == "Complete"

	signature = frappe.get_doc("Electronic Signature", release_as(approver, lot_dhr.name))
	assert (signature.meaning, signature.signer, signature.reference_name, signature.reason) == ("Released", approver, lot_dhr.name, "Lot reviewed")
	lot_dhr.reload()
	assert (lot_dhr.status, lot_dhr.released_by, lot_dhr.released_by_name, lot_dhr.release_signature) == (
		"Released", approver, signature.signer_name, signature.name
	)
	assert lot_dhr.released_on == signature.signed_on
	serial_dhrs = frappe.get_all("Device History Record", filters={"lot_dhr": lot_dhr.name}, pluck="status")
	assert serial_dhrs == ["Released"] * 3
	with pytest.raises(frappe.ValidationError, match="already released"):
		release_as(approver, lot_dhr.name)

	# Released: neither the DHR nor a record it binds may change.
	lot_dhr.deviations = "edited afterwards"
	with pytest.raises(frappe.ValidationError, match="under change control"):
		lot_dhr.save()
	leak.reload()
	leak.remarks = "edited afterwards"
	with pytest.raises(frappe.ValidationError):
		leak.save()
	with pytest.raises(frappe.ValidationError):
		leak.cancel()

	delivery = make_delivery(customer, production.device, 1, FINISHED, serial_no=serial)
	assert delivery.docstatus == 1


@pytest.mark.requirement("MT-DHR-003")
def test_unreleased_lot_cannot_be_delivered(production):
	run_stock_entry(production.work_order, "Material Transfer for Manufacture", 3)
	manufacture = run_stock_entry(production.work_order, "Manufacture", 3)
	serial = frappe.get_all("Serial No", filters={"item_code": production.device}, pluck="name")[0]
	for doctype in ("Delivery Note", "Sales Invoice"):
		message = refusal(lambda: make_delivery(make_customer(), production.device, 1, FINISHED, doctype=doctype, serial_no=serial))
		assert "Device History Record is not released" in message
	assert manufacture.docstatus == 1


def pdf_text(pdf: bytes) -> str:
	import subprocess

	text = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
	return " ".join(text.split())


@pytest.mark.requirement("MT-DHR-004", "MT-DHR-005")
def test_dhr_pdf_is_a_paginated_evidence_document(production, web_server):
	run_stock_entry(production.work_order, "Material Transfer for Manufacture", 3)
	record_parameter(182, work_order=production.work_order)
	run_stock_entry(production.work_order, "Manufacture", 3)
	lot_dhr = frappe.get_doc("Device History Record", {"work_order": production.work_order, "serial_no": ("is", "not set")})
	download_dhr_pdf(lot_dhr.name)
	text = pdf_text(frappe.local.response.filecontent)
	for expected in (lot_dhr.name, lot_dhr.batch_no, production.raw, "Sealing Temperature", "Not released", f"{lot_dhr.name} - 1 /"):
		assert expected in text, expected


@pytest.mark.requirement("MT-DHR-004", "MT-SIG-005")
def test_released_dhr_pdf_carries_the_signature_manifestation(production, user_with_role, web_server):
	lot_dhr, _leak = complete_lot(production)
	approver = can_sign(user_with_role(QUALITY_APPROVER))
	signature = frappe.get_doc("Electronic Signature", release_as(approver, lot_dhr.name))
	download_dhr_pdf(lot_dhr.name)
	text = pdf_text(frappe.local.response.filecontent)
	for expected in ("Electronic signature", signature.signer_name, approver, "Released", signature.name):
		assert expected in text, expected
	assert "Not released" not in text
