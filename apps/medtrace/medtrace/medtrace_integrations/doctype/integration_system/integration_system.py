# Copyright (c) 2026, MedTrace and contributors
# For license information, please see license.txt

import frappe
from frappe import _
from frappe.model.document import Document

from medtrace.medtrace_integrations.inbound import MESSAGE_ID_MAX_LENGTH, NAME_LENGTH

# A system's messages are logged as "<system name>:<message id>", in Frappe's 140 characters.
SYSTEM_NAME_MAX_LENGTH = NAME_LENGTH - MESSAGE_ID_MAX_LENGTH - 1


class IntegrationSystem(Document):
	# begin: auto-generated types
	# end: auto-generated types

	def validate(self):
		if len(self.system_name or "") > SYSTEM_NAME_MAX_LENGTH:
			frappe.throw(
				_("A system name has at most {0} characters, so that message ids of up to {1} fit the name of their log.").format(
					SYSTEM_NAME_MAX_LENGTH, MESSAGE_ID_MAX_LENGTH
				)
			)
		if self.api_user in ("Administrator", "Guest"):
			frappe.throw(_("Give each system its own API user, with only the roles its messages need."))
		if self.default_warehouse and frappe.db.get_value("Warehouse", self.default_warehouse, "company") != self.company:
			frappe.throw(_("Warehouse {0} does not belong to {1}.").format(self.default_warehouse, self.company))
