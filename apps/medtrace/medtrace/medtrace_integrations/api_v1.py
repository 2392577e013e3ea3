"""Version 1 of MedTrace's inbound integration API.

    POST /api/method/medtrace.medtrace_integrations.api_v1.post_message
         Authorization: token <api key>:<api secret>   (the Integration System's API user)
         {"message_type": "mes.process_parameter.v1", "message_id": "<unique per system>", "payload": {...}}
    → 202 {"message": {"message": "<log name>", "status": "Queued"}}
      417 the payload or its references are invalid (logged as Rejected); 409 the message_id was seen before

    GET  /api/method/medtrace.medtrace_integrations.api_v1.get_message?message_id=…
    GET  /api/method/medtrace.medtrace_integrations.api_v1.openapi
"""

import frappe

from medtrace.medtrace_integrations.inbound import receive_message, system_of_current_user
from medtrace.medtrace_integrations.openapi import openapi_document


@frappe.whitelist(methods=["POST"])
def post_message(message_type: str, message_id: str, payload) -> dict:
	return receive_message(message_type, message_id, payload)


@frappe.whitelist(methods=["GET"])
def get_message(message_id: str) -> dict:
	system = system_of_current_user()
	name = f"{system.name}:{message_id}"
	if not frappe.db.exists("Integration Message", name):
		frappe.throw(frappe._("No message {0} from {1}.").format(message_id, system.name), frappe.DoesNotExistError)
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
