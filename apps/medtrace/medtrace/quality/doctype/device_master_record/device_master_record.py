# Copyright (c) 2026, MedTrace and contributors
# For license information, please see license.txt

import frappe
from frappe import _
from frappe.model.document import Document

from medtrace.quality.change_control import guard_device_master_record


class DeviceMasterRecord(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF
		from medtrace.quality.doctype.dmr_requirement.dmr_requirement import DMRRequirement

		bom: DF.Link | None
		enabled: DF.Check
		item: DF.Link
		item_name: DF.Data | None
		requirements: DF.Table[DMRRequirement]
		revision: DF.Data
	# end: auto-generated types

	def validate(self):
		self.validate_item_is_traceable()
		self.validate_unique_requirements()
		guard_device_master_record(self)

	def validate_item_is_traceable(self):
		has_batch_no, has_serial_no = frappe.db.get_value("Item", self.item, ["has_batch_no", "has_serial_no"])
		if not (has_batch_no or has_serial_no):
			frappe.throw(
				_("Item {0} is neither batch- nor serial-tracked, so it has no lots or serials to record.").format(frappe.bold(self.item))
			)

	def validate_unique_requirements(self):
		seen = set()
		for row in self.requirements:
			key = (row.requirement_type, row.quality_inspection_template, row.inspection_type, row.parameter, row.document_title)
			if key in seen:
				frappe.throw(_("Row {0}: this requirement is listed twice.").format(row.idx))
			seen.add(key)
