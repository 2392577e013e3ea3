# Copyright (c) 2026, MedTrace and contributors
# For license information, please see license.txt

import frappe
from frappe import _
from frappe.model.document import Document

from medtrace.quality.change_control import refuse_uncontrolled_change
from medtrace.quality.dhr import RELEASED, assemble


class DeviceHistoryRecord(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF
		from medtrace.quality.doctype.dhr_component.dhr_component import DHRComponent
		from medtrace.quality.doctype.dhr_document.dhr_document import DHRDocument
		from medtrace.quality.doctype.dhr_inspection.dhr_inspection import DHRInspection
		from medtrace.quality.doctype.dhr_nonconformance.dhr_nonconformance import DHRNonconformance
		from medtrace.quality.doctype.dhr_parameter.dhr_parameter import DHRParameter

		batch_no: DF.Link | None
		bom: DF.Link | None
		components: DF.Table[DHRComponent]
		deviations: DF.SmallText | None
		device_master_record: DF.Link | None
		dmr_revision: DF.Data | None
		documents: DF.Table[DHRDocument]
		inspections: DF.Table[DHRInspection]
		item: DF.Link
		item_name: DF.Data | None
		job_cards: DF.SmallText | None
		labels_printed: DF.SmallText | None
		lot_dhr: DF.Link | None
		manufactured_on: DF.Date | None
		missing: DF.SmallText | None
		nonconformances: DF.Table[DHRNonconformance]
		parameters: DF.Table[DHRParameter]
		produced_qty: DF.Float
		release_signature: DF.Link | None
		released_by: DF.Link | None
		released_by_name: DF.Data | None
		released_on: DF.Datetime | None
		routing: DF.Link | None
		serial_no: DF.Link | None
		status: DF.Literal["Open", "Complete", "Released"]
		udi: DF.Data | None
		work_order: DF.Link | None
	# end: auto-generated types

	def validate(self):
		if self.is_released_in_database():
			# What was released stays as it was signed: corrected only under change control, never re-assembled.
			refuse_uncontrolled_change(self, _("a released Device History Record"))
			return
		assemble(self)

	def on_trash(self):
		if self.is_released_in_database():
			frappe.throw(_("A released Device History Record cannot be deleted."), title=_("Released Record"))

	def is_released_in_database(self) -> bool:
		return not self.is_new() and frappe.db.get_value(self.doctype, self.name, "status") == RELEASED
