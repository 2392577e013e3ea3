# Copyright (c) 2026, MedTrace and contributors
# For license information, please see license.txt

from frappe.model.document import Document


class UDICodingRulePart(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		parent: DF.Data
		parentfield: DF.Data
		parenttype: DF.Data
		part: DF.Literal["Text", "Year (YY)", "Year (YYYY)", "Month (MM)", "Day (DD)", "Julian Date (YYDDD)", "Week (WW)", "Sequence"]
		text: DF.Data | None
	# end: auto-generated types

	pass
