# Copyright (c) 2026, MedTrace and contributors
# For license information, please see license.txt

import json

import frappe
from frappe import _
from frappe.model.document import Document


class IntegrationMessage(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		attempts: DF.Int
		client_message_id: DF.Data
		created_documents: DF.JSON | None
		error: DF.SmallText | None
		integration_system: DF.Link
		message_type: DF.Data
		next_attempt_at: DF.Datetime | None
		payload: DF.Code | None
		processed_at: DF.Datetime | None
		received_at: DF.Datetime | None
		status: DF.Literal["Queued", "Processed", "Failed", "Retrying", "Rejected"]
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


def on_doctype_update():
	# Drains take the oldest waiting message of a status (medtrace_integrations.inbound.claim_next_message).
	frappe.db.add_index("Integration Message", ["status", "received_at"])
