# Copyright (c) 2026, MedTrace and contributors
# For license information, please see license.txt

import frappe
from frappe.model.document import Document


class DataQualityException(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		closed_on: DF.Datetime | None
		document_type: DF.Link
		message: DF.SmallText | None
		open_key: DF.Data | None
		opened_on: DF.Datetime | None
		record: DF.DynamicLink
		resolution: DF.SmallText | None
		responsible_role: DF.Link | None
		rule: DF.Link
		severity: DF.Literal["Critical", "Major", "Minor"]
		status: DF.Literal["Open", "Closed"]
	# end: auto-generated types

	# Opened, assigned and closed by medtrace.quality.data_quality; users read and discuss them.


def on_doctype_update():
	frappe.db.add_index("Data Quality Exception", ["rule", "status"])
