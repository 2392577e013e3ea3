# Copyright (c) 2026, MedTrace and contributors
# For license information, please see license.txt

import frappe
from frappe import _
from frappe.model.document import Document


class ElectronicSignature(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		authentication: DF.Data | None
		content_hash: DF.Data | None
		meaning: DF.Literal["Reviewed", "Approved", "Released", "Implemented", "Verified", "Closed", "Rejected"]
		reason: DF.SmallText | None
		reference_doctype: DF.Link
		reference_name: DF.DynamicLink
		signed_on: DF.Datetime
		signer: DF.Link
		signer_name: DF.Data
		workflow_action: DF.Data | None
		workflow_state: DF.Data | None
	# end: auto-generated types

	# Signatures are made by medtrace.signatures.esignature.sign alone; once made they are evidence (21 CFR 11.70:
	# a signature cannot be excised, copied or transferred), so nothing may change or delete them.
	def validate(self):
		if not self.is_new():
			frappe.throw(_("An electronic signature cannot be changed."), title=_("Electronic Signature"))

	def on_trash(self):
		frappe.throw(_("An electronic signature cannot be deleted."), title=_("Electronic Signature"))


def on_doctype_update():
	frappe.db.add_index("Electronic Signature", ["reference_doctype", "reference_name"])
