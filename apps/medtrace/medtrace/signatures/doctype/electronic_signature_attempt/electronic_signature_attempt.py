# Copyright (c) 2026, MedTrace and contributors
# For license information, please see license.txt

import frappe
from frappe import _
from frappe.model.document import Document


class ElectronicSignatureAttempt(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		failure: DF.Data | None
		ip_address: DF.Data | None
		meaning: DF.Data | None
		outcome: DF.Literal["Failed", "Unlocked"]
		reference_doctype: DF.Link | None
		reference_name: DF.DynamicLink | None
		unlocked_by: DF.Link | None
		user: DF.Link
	# end: auto-generated types

	# The record of failed signatures is what locks a signer out; editing it would unlock them unseen.
	def validate(self):
		if not self.is_new():
			frappe.throw(_("Signature attempts cannot be changed."), title=_("Electronic Signature"))

	def on_trash(self):
		frappe.throw(_("Signature attempts cannot be deleted."), title=_("Electronic Signature"))


def on_doctype_update():
	frappe.db.add_index("Electronic Signature Attempt", ["user", "outcome"])
