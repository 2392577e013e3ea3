# Copyright (c) 2026, MedTrace and contributors
# For license information, please see license.txt

from frappe.model.document import Document


class RecallCustomer(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		acknowledged: DF.Check
		acknowledged_on: DF.Date | None
		customer: DF.Link
		email_queue: DF.Data | None
		notification_email: DF.Data | None
		notification_status: DF.Literal["", "Queued", "Not Sent (Drill)"]
		notified_on: DF.Datetime | None
		parent: DF.Data
		parentfield: DF.Data
		parenttype: DF.Data
		stock_uom: DF.Link | None
		units_corrected: DF.Float
		units_delivered: DF.Float
		units_returned: DF.Float
		units_unaccounted: DF.Float
	# end: auto-generated types
