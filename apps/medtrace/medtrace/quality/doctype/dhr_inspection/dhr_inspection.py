# Copyright (c) 2026, MedTrace and contributors
# For license information, please see license.txt

from frappe.model.document import Document


class DHRInspection(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		inspected_by: DF.Link | None
		inspection_type: DF.Data | None
		parent: DF.Data
		parentfield: DF.Data
		parenttype: DF.Data
		quality_inspection: DF.Link | None
		readings: DF.SmallText | None
		report_date: DF.Date | None
		status: DF.Data | None
		template: DF.Link | None
	# end: auto-generated types

	pass
