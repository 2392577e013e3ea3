# Copyright (c) 2026, MedTrace and contributors
# For license information, please see license.txt

import frappe
from frappe import _
from frappe.model.document import Document


class TraceabilityEvent(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		batch_no: DF.Link | None
		customer: DF.Link | None
		event: DF.Literal["Lot Released", "Held", "Hold Released", "Recalled", "Shipped", "Shipment Cancelled", "Returned"]
		item: DF.Link | None
		occurred_on: DF.Datetime | None
		payload: DF.Code | None
		qty: DF.Float
		reference_doctype: DF.Link | None
		reference_name: DF.DynamicLink | None
		serial_no: DF.Link | None
		serial_nos: DF.SmallText | None
		udi: DF.Data | None
	# end: auto-generated types

	# Other systems have already acted on an event (medtrace.medtrace_integrations.events): it stays as sent.
	def validate(self):
		if not self.is_new():
			frappe.throw(_("A traceability event cannot be changed."), title=_("Traceability Event"))


def on_doctype_update():
	frappe.db.add_index("Traceability Event", ["reference_doctype", "reference_name"])
