# Copyright (c) 2026, MedTrace and contributors
# For license information, please see license.txt

import frappe
from frappe import _
from frappe.model.document import Document
from frappe.utils import add_days, getdate, today

from medtrace.udi.scan import interpret_scan, resolve_scanned_udi

CLOSED = "Closed"

# Calendar days from the day the manufacturer became aware of the event (received_on) to the regulator's
# deadline, by regulation and severity:
# - FDA: 21 CFR 803.50(a), deaths, serious injuries and malfunctions within 30 calendar days (the 5-work-day
#   report of 803.53 for a public-health risk is decided case by case and not computed here).
# - EU: MDR (EU) 2017/745 Art. 87(3)-(5), serious incidents within 15 days, 10 days for a death or an
#   unanticipated serious deterioration of health (2 days for a serious public-health threat: case by case).
# - China: 医疗器械不良事件监测和再评价管理办法 (NMPA Order 1, 2018) Art. 25, a death within 7 days, a
#   serious injury or an event that may lead to one within 20 days.
REPORTING_DEADLINE_DAYS = {
	"FDA MDR (21 CFR 803)": {"death": 30, "serious injury": 30, "other": 30},
	"EU MDR Vigilance (Art. 87)": {"death": 10, "serious injury": 10, "other": 15},
	"China NMPA Adverse Event": {"death": 7, "serious injury": 20, "other": 20},
}
# Until the patient's outcome is known it is assessed as a serious injury: the shorter deadline is the one
# that cannot be missed.
SEVERITY_OF_INVOLVEMENT = {
	"None": "other",
	"Patient involved, no injury": "other",
	"Injury": "serious injury",
	"Death": "death",
	"Unknown": "serious injury",
}


class CustomerComplaint(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		batch_no: DF.Link | None
		customer: DF.Link | None
		event_date: DF.Date | None
		event_description: DF.SmallText
		investigation: DF.Text | None
		item: DF.Link | None
		non_conformance: DF.Link | None
		patient_involvement: DF.Literal["None", "Patient involved, no injury", "Injury", "Death", "Unknown"]
		recall: DF.Link | None
		received_on: DF.Date
		regulation: DF.Literal["", "FDA MDR (21 CFR 803)", "EU MDR Vigilance (Art. 87)", "China NMPA Adverse Event"]
		reportable: DF.Check
		reporter_contact: DF.Data | None
		reporter_name: DF.Data
		reporting_deadline: DF.Date | None
		root_cause: DF.SmallText | None
		scanned_udi: DF.Data | None
		serial_no: DF.Link | None
		status: DF.Literal["Open", "Under Investigation", "Closed"]
		udi_device_identifier: DF.Link | None
	# end: auto-generated types

	def validate(self):
		self.validate_dates()
		if not self.scanned_udi:
			self.identify_entered_device()
		elif self.is_new() or self.has_value_changed("scanned_udi"):
			self.identify_scanned_device()
		self.reporting_deadline = reporting_deadline(self)
		if self.reportable and not self.regulation:
			frappe.throw(_("Select the regulation the complaint is reportable under."), title=_("Reportability"))
		if self.status == CLOSED and not (self.investigation or "").strip():
			frappe.throw(_("Record the investigation before closing the complaint."), title=_("Complaint Not Investigated"))

	def validate_dates(self):
		if self.event_date and getdate(self.event_date) > getdate(today()):
			frappe.throw(
				_("The event date {0} is in the future.").format(frappe.format(self.event_date, "Date")), title=_("Invalid Event Date")
			)
		if self.event_date and self.received_on and getdate(self.event_date) > getdate(self.received_on):
			frappe.throw(
				_("The event date {0} is after the complaint was received on {1}.").format(
					frappe.format(self.event_date, "Date"), frappe.format(self.received_on, "Date")
				),
				title=_("Invalid Event Date"),
			)

	def identify_scanned_device(self):
		"""Fill item, UDI-DI, lot and serial number from the scan, as UDI Scan resolves it."""
		result = resolve_scanned_udi(interpret_scan(self.scanned_udi))
		# A complaint needs the device, not a compliant label: a label lacking a date still names its lot.
		if result["status"] not in ("resolved", "incomplete"):
			problems = [result["message"], *result.get("warnings", [])]
			frappe.throw(
				_("The scanned UDI {0} does not identify a device MedTrace knows: {1}").format(
					frappe.bold(self.scanned_udi), " ".join(problems)
				),
				title=_("Unresolved Scan"),
			)
		if not result["batch"] and not result["serial_no"]:
			frappe.throw(
				_(
					"The scanned UDI {0} names the device type {1} but no lot or serial number: scan the full UDI on the "
					"device's label, or enter the lot or serial number instead."
				).format(frappe.bold(self.scanned_udi), result["udi_device_identifier"] or result["item"]),
				title=_("Unresolved Scan"),
			)
		self.batch_no, self.serial_no = result["batch"], result["serial_no"]
		if self.serial_no and not self.batch_no:
			self.batch_no = frappe.db.get_value("Serial No", self.serial_no, "batch_no")
		self.item = result["item"]
		self.udi_device_identifier = result["udi_device_identifier"] or self.recorded_device_identifier()

	def identify_entered_device(self):
		"""A lot or serial number typed in: its item and UDI-DI as recorded."""
		if self.serial_no:
			serial = frappe.db.get_value("Serial No", self.serial_no, ["item_code", "batch_no"], as_dict=True)
			if self.batch_no and serial.batch_no and serial.batch_no != self.batch_no:
				frappe.throw(
					_("Serial number {0} belongs to lot {1}, not to lot {2}.").format(self.serial_no, serial.batch_no, self.batch_no),
					title=_("Invalid Device"),
				)
			self.batch_no = self.batch_no or serial.batch_no
			self.item = serial.item_code
		elif self.batch_no:
			self.item = frappe.db.get_value("Batch", self.batch_no, "item")
		else:
			self.item = self.udi_device_identifier = None
			return
		self.udi_device_identifier = self.recorded_device_identifier()

	def recorded_device_identifier(self) -> str | None:
		if self.serial_no:
			return frappe.db.get_value("Serial No", self.serial_no, "udi_device_identifier")
		return self.batch_no and frappe.db.get_value("Batch", self.batch_no, "udi_device_identifier")


def reporting_deadline(complaint) -> str | None:
	if not complaint.reportable or complaint.regulation not in REPORTING_DEADLINE_DAYS or not complaint.received_on:
		return None
	severity = SEVERITY_OF_INVOLVEMENT.get(complaint.patient_involvement, "serious injury")
	return add_days(complaint.received_on, REPORTING_DEADLINE_DAYS[complaint.regulation][severity])


@frappe.whitelist(methods=["POST"])
def create_recall(name: str, classification: str = "Class II") -> str:
	"""A draft Recall triggered by the complaint, scoped to its device's lot (or serial number when it has
	no lot); returns the recall's name."""
	complaint = frappe.get_doc("Customer Complaint", name)
	complaint.check_permission("read")
	frappe.has_permission("Recall", "create", throw=True)
	if complaint.recall and frappe.db.exists("Recall", complaint.recall):
		frappe.throw(_("Complaint {0} already led to recall {1}.").format(name, complaint.recall), title=_("Recall Exists"))
	if not complaint.batch_no and not complaint.serial_no:
		frappe.throw(
			_("Complaint {0} names no lot or serial number: identify the device before recalling it.").format(name),
			title=_("Device Not Identified"),
		)
	# A defect found in one unit is suspected in every unit of its lot: the lot is recalled, not the unit.
	scope = {"batch_no": complaint.batch_no} if complaint.batch_no else {"serial_no": complaint.serial_no}
	recall = frappe.get_doc(
		{
			"doctype": "Recall",
			"title": _("Recall after complaint {0}").format(name),
			"classification": classification,
			"trigger": "Complaint",
			"trigger_doctype": "Customer Complaint",
			"trigger_reference": name,
			"reason": complaint.event_description,
			"scope": [scope],
		}
	).insert()
	complaint.db_set("recall", recall.name)
	return recall.name
