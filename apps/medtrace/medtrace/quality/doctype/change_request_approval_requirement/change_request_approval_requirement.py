# Copyright (c) 2026, MedTrace and contributors
# For license information, please see license.txt

from frappe.model.document import Document


class ChangeRequestApprovalRequirement(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		approvals_needed: DF.Int
		parent: DF.Data
		parentfield: DF.Data
		parenttype: DF.Data
		role: DF.Link
	# end: auto-generated types
