# Copyright (c) 2026, MedTrace and contributors
# For license information, please see license.txt

import json

import frappe
from frappe import _
from frappe.model.document import Document


class IntegrationMessage(Document):
	# begin: auto-generated types
	# end: auto-generated types

	def autoname(self):
		# One name per system and client message id: the database itself refuses a second copy.
		self.name = f"{self.integration_system}:{self.client_message_id}"

	def validate(self):
		try:
			json.loads(self.payload or "{}")
		except ValueError as error:
			frappe.throw(_("The payload is not valid JSON: {0}").format(error))
		if not self.is_new() and self.has_value_changed("payload") and self.get_db_value("status") == "Processed":
			frappe.throw(_("The payload of a processed message is a record of what was received and cannot change."))
