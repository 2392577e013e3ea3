# Copyright (c) 2026, MedTrace and contributors
# For license information, please see license.txt

import frappe
from frappe import _
from frappe.model.document import Document


class AuditChainEntry(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		content: DF.Code | None
		entry_hash: DF.Data | None
		event: DF.Data | None
		previous_hash: DF.Data | None
		ref_doctype: DF.Data | None
		ref_name: DF.Data | None
		sequence: DF.Int
		source_doctype: DF.Data | None
		source_name: DF.Data | None
		timestamp: DF.Datetime | None
		user: DF.Data | None
	# end: auto-generated types

	# Entries are appended by medtrace.audit.audit_chain alone, as rows, when the records they seal are
	# committed; through the document API they can be neither written nor deleted. Track Changes stays on
	# for uniformity: an entry is never saved, so it never produces a Version to seal. Its references are
	# Data, not (Dynamic) Links: renaming a record rewrites links to it, which would break the hashes.
	def validate(self):
		frappe.throw(
			_("Audit chain entries are written by MedTrace when audited records change; they cannot be created or edited."),
			title=_("Audit Chain"),
		)

	def on_trash(self):
		frappe.throw(_("Audit chain entries cannot be deleted."), title=_("Audit Chain"))


def on_doctype_update():
	frappe.db.add_index("Audit Chain Entry", ["ref_doctype", "ref_name"])
