# Copyright (c) 2026, MedTrace and contributors
# For license information, please see license.txt

from frappe.model.document import Document

from medtrace.signatures.separation_of_duties import validate_rule


class SeparationofDutiesRule(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		action: DF.Data
		earlier_act: DF.Literal["Did the Workflow Action", "Created the Document"]
		earlier_action: DF.Data | None
		enabled: DF.Check
		reason: DF.SmallText | None
		rule_name: DF.Data
		workflow: DF.Link
	# end: auto-generated types

	def validate(self):
		validate_rule(self)
