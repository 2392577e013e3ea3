# Copyright (c) 2026, MedTrace and contributors
# For license information, please see license.txt

from frappe.model.document import Document


class DMRRequirement(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		document_title: DF.Data | None
		inspection_type: DF.Literal["", "Incoming", "In Process", "Outgoing"]
		parameter: DF.Data | None
		parent: DF.Data
		parentfield: DF.Data
		parenttype: DF.Data
		per_serial: DF.Check
		quality_inspection_template: DF.Link | None
		requirement_type: DF.Literal["Quality Inspection", "Process Parameter", "Document"]
	# end: auto-generated types

	pass
