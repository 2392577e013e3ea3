# Copyright (c) 2026, MedTrace and contributors
# For license information, please see license.txt

from frappe.model.document import Document


class DHRParameter(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		in_specification: DF.Check
		limits: DF.Data | None
		parameter: DF.Data | None
		parent: DF.Data
		parentfield: DF.Data
		parenttype: DF.Data
		process_parameter_record: DF.Link | None
		recorded_at: DF.Datetime | None
		unit: DF.Data | None
		value: DF.Float
	# end: auto-generated types

	pass
