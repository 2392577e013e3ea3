# Copyright (c) 2026, MedTrace and contributors
# For license information, please see license.txt

from frappe.model.document import Document


class ChangeRequestTask(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		assigned_to: DF.Link | None
		completed_on: DF.Date | None
		done: DF.Check
		parent: DF.Data
		parentfield: DF.Data
		parenttype: DF.Data
		task: DF.Data
	# end: auto-generated types
