"""Version 1 of MedTrace's inbound integration API.

    POST /api/method/medtrace.medtrace_integrations.api_v1.post_message
         Authorization: token <api key>:<api secret>   (the Integration System's API user)
         {"message_type": "mes.process_parameter.v1", "message_id": "<unique per system>", "payload": {...}}
    → 202 {"message": {"message": "<log name>", "status": "Queued"}}
      417 the envelope, the payload or its references are invalid (logged as Rejected when the message_id is
      usable); 413 the body is larger than inbound.MAX_BODY_BYTES (logged); 409 the message_id was seen before

    GET  /api/method/medtrace.medtrace_integrations.api_v1.get_message?message_id=…
    GET  /api/method/medtrace.medtrace_integrations.api_v1.openapi
"""

from typing import Any

import frappe
from frappe import _
from frappe.utils import escape_html

from medtrace.medtrace_integrations.inbound import receive_message, reject, system_of_current_user
from medtrace.medtrace_integrations.openapi import openapi_document


# Arguments are optional to Frappe so that one missing is refused with a message, and the payload may be of
# any type so that one of the wrong type is logged as received before it is refused.
@frappe.whitelist(methods=["POST"])
def post_message(message_type: str | None = None, message_id: str | None = None, payload: Any = None) -> dict:
	return receive_message(message_type, message_id, payload)


@frappe.whitelist(methods=["GET"])
def get_message(message_id: str | None = None) -> dict:
	system = system_of_current_user()
	if not message_id:
		reject(_("message_id is required."))
	name = f"{system.name}:{message_id.strip()}"
	if not frappe.db.exists("Integration Message", name):
		frappe.throw(_("No message {0} from {1}.").format(frappe.bold(escape_html(message_id)), system.name), frappe.DoesNotExistError)
	message = frappe.get_doc("Integration Message", name)
	return {
		"status": message.status,
		"error": message.error,
		"attempts": message.attempts,
		"documents": frappe.parse_json(message.created_documents) or [],
	}


@frappe.whitelist(methods=["GET"])
def openapi() -> dict:
	if not frappe.db.exists("Integration System", {"api_user": frappe.session.user}):
		frappe.has_permission("Integration Message", "read", throw=True)
	return openapi_document()
