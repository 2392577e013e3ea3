# Copyright (c) 2026, MedTrace and contributors
# For license information, please see license.txt

import frappe
from frappe import _
from frappe.model.document import Document


class ValidationRequirement(Document):
	# The register file is the requirement's controlled source (reviewed and released with the code); the
	# doctype only shows it, so what Validation Runs name cannot drift from what was released.
	def validate(self):
		if not self.flags.from_register:
			frappe.throw(
				_("Validation Requirements come from the requirements register (apps/medtrace/docs/requirements.yaml) and cannot be changed in the Desk."),
				frappe.PermissionError,
				title=_("Read-Only Requirement"),
			)

	def on_trash(self):
		frappe.throw(
			_("A Validation Requirement cannot be deleted: a requirement no longer in the register is kept as withdrawn."),
			frappe.PermissionError,
			title=_("Read-Only Requirement"),
		)
