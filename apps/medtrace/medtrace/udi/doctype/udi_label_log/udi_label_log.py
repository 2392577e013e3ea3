# Copyright (c) 2026, MedTrace and contributors
# For license information, please see license.txt

from frappe.model.document import Document


class UDILabelLog(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		copies: DF.Int
		identifiers: DF.LongText | None
		labels: DF.Int
		print_format: DF.Link | None
		printed_by: DF.Link | None
		printed_from: DF.Literal["Print View", "Label Download"]
		printed_on: DF.Datetime | None
		reference_doctype: DF.Link | None
		reference_name: DF.DynamicLink | None
	# end: auto-generated types

	# Written only by medtrace.udi.labels when labels are printed.
