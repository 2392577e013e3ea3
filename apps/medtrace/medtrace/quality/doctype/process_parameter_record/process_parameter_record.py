# Copyright (c) 2026, MedTrace and contributors
# For license information, please see license.txt

import frappe
from frappe import _
from frappe.model.document import Document

from medtrace.quality.dhr import refresh_bound_dhrs, refuse_change_to_released_record


class ProcessParameterRecord(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		batch_no: DF.Link | None
		equipment: DF.Data | None
		external_id: DF.Data | None
		in_specification: DF.Check
		item: DF.Link | None
		job_card: DF.Link | None
		lower_limit: DF.Data | None
		operator: DF.Link | None
		parameter: DF.Data
		recorded_at: DF.Datetime
		serial_no: DF.Link | None
		source: DF.Literal["Manual", "MES", "LIMS", "API"]
		unit: DF.Data | None
		upper_limit: DF.Data | None
		value: DF.Float
		work_order: DF.Link | None
	# end: auto-generated types

	def validate(self):
		if not (self.work_order or self.batch_no or self.serial_no):
			frappe.throw(_("Record the reading against a Work Order, a Batch or a Serial No."))
		lower, upper = parse_limit(self.lower_limit, _("lower")), parse_limit(self.upper_limit, _("upper"))
		if lower is not None and upper is not None and lower > upper:
			frappe.throw(_("The lower specification limit {0} is above the upper limit {1}.").format(lower, upper))
		self.item = self.resolve_item()
		self.in_specification = is_within_limits(self.value, lower, upper)
		self.refuse_change_to_released_record()

	def refuse_change_to_released_record(self):
		"""A reading bound to a released DHR stays: neither changed where it is nor moved away from it."""
		for record in filter(None, (self, self.get_doc_before_save())):
			refuse_change_to_released_record(
				record.batch_no, record.serial_no, record.work_order, what=_("Process parameter {0}").format(record.parameter)
			)

	def resolve_item(self) -> str | None:
		if self.serial_no:
			return frappe.db.get_value("Serial No", self.serial_no, "item_code")
		if self.batch_no:
			return frappe.db.get_value("Batch", self.batch_no, "item")
		return frappe.db.get_value("Work Order", self.work_order, "production_item")

	def on_update(self):
		refresh_bound_dhrs(self.batch_no, self.serial_no, self.work_order)
		before = self.get_doc_before_save()
		binding = ("batch_no", "serial_no", "work_order")
		if before and any(before.get(field) != self.get(field) for field in binding):
			# The DHRs it moved away from no longer hold it.
			refresh_bound_dhrs(before.batch_no, before.serial_no, before.work_order)

	def on_trash(self):
		refuse_change_to_released_record(
			self.batch_no, self.serial_no, self.work_order, what=_("Process parameter {0}").format(self.parameter)
		)


def parse_limit(value: str | None, side: str) -> float | None:
	if value is None or not str(value).strip():
		return None
	try:
		return float(value)
	except ValueError:
		frappe.throw(_("The {0} specification limit {1} is not a number.").format(side, frappe.bold(value)))


def is_within_limits(value: float, lower: float | None, upper: float | None) -> bool:
	return (lower is None or value >= lower) and (upper is None or value <= upper)
