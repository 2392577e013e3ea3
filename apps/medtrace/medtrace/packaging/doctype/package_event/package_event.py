# Copyright (c) 2026, MedTrace and contributors
# For license information, please see license.txt

import frappe
from frappe import _
from frappe.model.document import Document


class PackageEvent(Document):
	def validate(self):
		# The history of a package is evidence: written once by packing, never edited.
		if not self.is_new():
			frappe.throw(_("Package events are never changed."), title=_("Package History"))
