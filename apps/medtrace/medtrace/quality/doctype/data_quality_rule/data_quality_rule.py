# Copyright (c) 2026, MedTrace and contributors
# For license information, please see license.txt

from frappe.model.document import Document

from medtrace.quality.data_quality import validate_rule


class DataQualityRule(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		check_function: DF.Autocomplete | None
		condition: DF.Code | None
		description: DF.SmallText | None
		document_type: DF.Link
		enabled: DF.Check
		filters_json: DF.Code | None
		grace_period_days: DF.Int
		last_run_on: DF.Datetime | None
		last_run_violations: DF.Int
		message: DF.SmallText | None
		responsible_role: DF.Link
		rule_name: DF.Data
		severity: DF.Literal["Critical", "Major", "Minor"]
	# end: auto-generated types

	def validate(self):
		validate_rule(self)
