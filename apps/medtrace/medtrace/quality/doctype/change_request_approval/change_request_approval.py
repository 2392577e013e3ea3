# Copyright (c) 2026, MedTrace and contributors
# For license information, please see license.txt

from frappe.model.document import Document


class ChangeRequestApproval(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		approver: DF.Link | None
		approver_name: DF.Data | None
		parent: DF.Data
		parentfield: DF.Data
		parenttype: DF.Data
		role: DF.Link | None
		signature: DF.Link | None
		signed_on: DF.Datetime | None
	# end: auto-generated types
