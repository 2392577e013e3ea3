# Copyright (c) 2026, MedTrace and contributors
# For license information, please see license.txt

import frappe
from frappe import _
from frappe.model.document import Document


class IntegrationSystem(Document):
	# begin: auto-generated types
	# end: auto-generated types

	def validate(self):
		if self.api_user in ("Administrator", "Guest"):
			frappe.throw(_("Give each system its own API user, with only the roles its messages need."))
		if self.default_warehouse and frappe.db.get_value("Warehouse", self.default_warehouse, "company") != self.company:
			frappe.throw(_("Warehouse {0} does not belong to {1}.").format(self.default_warehouse, self.company))
