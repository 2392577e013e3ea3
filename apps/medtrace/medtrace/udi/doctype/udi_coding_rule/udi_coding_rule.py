# Copyright (c) 2026, MedTrace and contributors
# For license information, please see license.txt

from frappe.model.document import Document

from medtrace.udi.coding_rules import validate_rule


class UDICodingRule(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF
		from medtrace.udi.doctype.udi_coding_rule_part.udi_coding_rule_part import UDICodingRulePart

		applies_to: DF.Literal["Item", "Item Group"]
		check_character: DF.Literal["", "GS1 Mod 10", "ISO 7064 Mod 37-2", "ISO 7064 Mod 37-36"]
		enabled: DF.Check
		item: DF.Link | None
		item_group: DF.Link | None
		number_type: DF.Literal["Lot", "Serial No"]
		parts: DF.Table[UDICodingRulePart]
		sequence_digits: DF.Int
		sequence_reset: DF.Literal["Yearly", "Monthly", "Daily", "Never"]
	# end: auto-generated types

	def validate(self):
		validate_rule(self)
