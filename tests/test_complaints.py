"""Customer complaints: the device identified from a scanned UDI of the trace scenario, refusals of scans
that name no unit and of impossible dates, reporting deadlines by regulation and severity, the recall a
complaint starts, and the trends report counting complaints per UDI-DI, lot and month."""

import frappe
import pytest
from factories import (
	make_device_identifier,
	make_item,
	receive_stock,
	released,
	signed_workflow_action,
	unique_gtin,
)
from frappe.desk.query_report import run
from frappe.utils import add_days, today
from medtrace.recall.doctype.customer_complaint.customer_complaint import create_recall, reporting_deadline
from test_recall import refusal, symbols_of
from test_trace_links import FORWARD, plant_fixtures

pytestmark = pytest.mark.requirement("MT-CMP-001")


def complaint(**values):
	return frappe.get_doc(
		{"doctype": "Customer Complaint", "reporter_name": "Nurse Wang", "reporter_contact": "+86 512 0000 0000",
		 "received_on": today(), "event_description": "Drip chamber cracked during priming", "patient_involvement": "None", **values}
	)


built_plant, plant = plant_fixtures()


def test_a_scanned_gs1_element_string_resolves_to_the_scenario_serial(plant):
	di = make_device_identifier(item=plant.items.device, label_lot=0, label_serial=1, label_expiry_date=0)
	serial = plant.name("D1")
	filed = complaint(customer=plant.customers["A"][0], scanned_udi=f"01{di.name}21{serial}").insert()
	assert (filed.item, filed.udi_device_identifier, filed.serial_no, filed.batch_no) == (plant.items.device, di.name, serial, None)
	# A lot typed in instead: its item, no UDI-DI recorded on it.
	by_lot = complaint(batch_no=plant.name("SA1")).insert()
	assert (by_lot.item, by_lot.udi_device_identifier) == (plant.items.sub_assembly, None)


@pytest.mark.requirement("MT-CMP-003")
def test_create_recall_scopes_the_complaints_lot(plant):
	filed = complaint(batch_no=plant.name("SA1"), patient_involvement="Injury").insert()
	name = create_recall(filed.name, "Class I")
	recall = frappe.get_doc("Recall", name)
	assert (recall.trigger, recall.trigger_doctype, recall.trigger_reference, recall.classification) == (
		"Complaint", "Customer Complaint", filed.name, "Class I"
	)
	assert [(row.batch_no, row.serial_no) for row in recall.scope] == [(plant.name("SA1"), None)]
	assert recall.reason == filed.event_description
	assert frappe.db.get_value("Customer Complaint", filed.name, "recall") == name
	assert "already led to recall" in refusal(lambda: create_recall(filed.name))
	scoped = signed_workflow_action(recall, "Scope Recall")
	assert symbols_of(plant, scoped.affected_units) == set(FORWARD["SA1"])
	unidentified = complaint().insert()
	assert "names no lot or serial number" in refusal(lambda: create_recall(unidentified.name))


def test_bad_scans_and_dates_are_refused_with_a_message():
	di = make_device_identifier()
	receive_stock(di.item, 1)
	lot = frappe.db.get_value("Batch", {"item": di.item})

	def filed(**values):
		return lambda: complaint(**values).insert()

	assert "matches no serial number, batch or UDI-DI" in refusal(filed(scanned_udi="NO-SUCH-DEVICE-42"))
	assert "is not registered in MedTrace" in refusal(filed(scanned_udi=f"01{unique_gtin()}10{lot}"))
	assert "no lot or serial number" in refusal(filed(scanned_udi=f"01{di.name}"))
	assert "is not in MedTrace" in refusal(filed(scanned_udi=f"01{di.name}10NO-SUCH-LOT"))
	other_item = make_item(has_batch_no=1, create_new_batch=1).name
	receive_stock(other_item, 1)
	other_lot = frappe.db.get_value("Batch", {"item": other_item})
	assert "check the label" in refusal(filed(scanned_udi=f"01{di.name}10{other_lot}"))
	assert "is in the future" in refusal(filed(batch_no=lot, event_date=add_days(today(), 1)))
	assert "after the complaint was received" in refusal(filed(received_on=add_days(today(), -5), event_date=add_days(today(), -1)))
	assert "Select the regulation" in refusal(filed(batch_no=lot, reportable=1))
	assert "Record the investigation before closing" in refusal(filed(batch_no=lot, status="Closed"))

	scanned = complaint(scanned_udi=f"01{di.name}10{lot}", event_date=today()).insert()
	assert (scanned.item, scanned.udi_device_identifier, scanned.batch_no) == (di.item, di.name, lot)
	scanned.update({"status": "Closed", "investigation": "Crack from a worn mould cavity", "root_cause": "Mould wear"})
	scanned.save()


@pytest.mark.parametrize(
	("regulation", "involvement", "days"),
	[
		("FDA MDR (21 CFR 803)", "Death", 30),
		("FDA MDR (21 CFR 803)", "None", 30),
		("EU MDR Vigilance (Art. 87)", "Death", 10),
		("EU MDR Vigilance (Art. 87)", "Injury", 10),
		("EU MDR Vigilance (Art. 87)", "Patient involved, no injury", 15),
		("China NMPA Adverse Event", "Death", 7),
		("China NMPA Adverse Event", "Injury", 20),
		("China NMPA Adverse Event", "Unknown", 20),
	],
)
@pytest.mark.requirement("MT-CMP-002")
def test_reporting_deadline_follows_the_regulation_and_severity(regulation, involvement, days):
	received = "2026-03-02"
	values = {"reportable": 1, "regulation": regulation, "patient_involvement": involvement, "received_on": received}
	assert str(reporting_deadline(frappe._dict(values))) == add_days(received, days)
	assert reporting_deadline(frappe._dict({**values, "reportable": 0})) is None


@pytest.mark.requirement("MT-CMP-002")
def test_the_deadline_is_set_on_save():
	filed = complaint(received_on="2026-03-02", reportable=1, regulation="China NMPA Adverse Event", patient_involvement="Death").insert()
	assert str(filed.reporting_deadline) == "2026-03-09"


@pytest.mark.requirement("MT-CMP-003")
def test_trends_report_counts_complaints_per_di_lot_and_month():
	di = released(make_device_identifier(label_expiry_date=0))
	for _receipt in range(2):
		receive_stock(di.item, 1)
	first, second = frappe.get_all("Batch", filters={"item": di.item}, pluck="name", order_by="creation")
	for lot, received_on in ((first, "2026-01-05"), (first, "2026-01-20"), (first, "2026-02-03"), (second, "2026-02-27")):
		complaint(batch_no=lot, received_on=received_on).insert()
	complaint(batch_no=first, received_on="2026-04-01").insert()  # outside the range

	result = run("Complaint Trends", filters={"from_date": "2026-01-01", "to_date": "2026-03-31", "udi_device_identifier": di.name})
	months = ("m_2026_01", "m_2026_02", "m_2026_03")
	counts = [(row["batch_no"], row["indent"], *(row[m] for m in months), row["total"]) for row in result["result"]]
	assert counts == [(None, 0, 2, 2, 0, 4), (first, 1, 2, 1, 0, 3), (second, 1, 0, 1, 0, 1)]
	assert result["result"][0]["udi_device_identifier"] == di.name
	assert result["chart"]["data"]["datasets"] == [{"name": di.name, "values": [2, 2, 0]}]
	other = run("Complaint Trends", filters={"from_date": "2026-01-01", "to_date": "2026-03-31", "item": make_item().name})
	assert other["result"] == []
