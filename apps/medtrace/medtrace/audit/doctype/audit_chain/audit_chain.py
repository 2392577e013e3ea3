# Copyright (c) 2026, MedTrace and contributors
# For license information, please see license.txt

import frappe
from frappe import _
from frappe.model.document import Document


class AuditChain(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		checkpoint_hash: DF.Data | None
		checkpoint_on: DF.Datetime | None
		checkpoint_sent_to: DF.SmallText | None
		checkpoint_sequence: DF.Int
		entries_verified: DF.Int
		first_broken_entry: DF.Data | None
		head_hash: DF.Data | None
		head_sequence: DF.Int
		last_verification: DF.Literal["", "Intact", "Broken"]
		last_verified_on: DF.Datetime | None
		verification_message: DF.SmallText | None
	# end: auto-generated types

	# Saving a single rewrites all its rows, the chain head included, from a copy read earlier: only
	# medtrace.audit.audit_chain writes here, field by field, under the head's row lock.
	def validate(self):
		frappe.throw(_("The audit chain is maintained by MedTrace and cannot be edited."), title=_("Audit Chain"))
