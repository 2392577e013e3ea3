"""The OpenAPI document of the inbound API, generated from the message schemas so it cannot drift.
A copy is kept in the repository (apps/medtrace/docs/openapi.json); a test checks they agree."""

from pydantic.json_schema import models_json_schema

from medtrace.medtrace_integrations.messages import MESSAGE_TYPES

ENDPOINT = "/api/method/medtrace.medtrace_integrations.api_v1.post_message"


def openapi_document() -> dict:
	_, definitions = models_json_schema(
		[(model, "validation") for model in MESSAGE_TYPES.values()], ref_template="#/components/schemas/{model}"
	)
	schemas = definitions["$defs"]
	envelopes = []
	for message_type, model in MESSAGE_TYPES.items():
		envelope = f"{model.__name__}Envelope"
		schemas[envelope] = {
			"type": "object",
			"required": ["message_type", "message_id", "payload"],
			"properties": {
				"message_type": {"const": message_type},
				"message_id": {"type": "string", "minLength": 1, "maxLength": 100, "description": "Unique per system; a resend with the same id is refused (409)."},
				"payload": {"$ref": f"#/components/schemas/{model.__name__}"},
			},
		}
		envelopes.append({"$ref": f"#/components/schemas/{envelope}"})
	error = {"description": "", "content": {"application/json": {"schema": {"type": "object"}}}}
	return {
		"openapi": "3.1.0",
		"info": {"title": "MedTrace inbound integration API", "version": "1"},
		"components": {
			"schemas": schemas,
			"securitySchemes": {"token": {"type": "apiKey", "in": "header", "name": "Authorization", "description": "token <api key>:<api secret>"}},
		},
		"security": [{"token": []}],
		"paths": {
			ENDPOINT: {
				"post": {
					"summary": "Send one message from MES, LIMS or WMS",
					"requestBody": {"required": True, "content": {"application/json": {"schema": {"oneOf": envelopes}}}},
					"responses": {
						"202": {"description": "Accepted and queued; poll get_message for the outcome."},
						"403": {**error, "description": "Unknown or disabled API user."},
						"409": {**error, "description": "The message_id was received before."},
						"417": {**error, "description": "Schema violation or invalid references; logged as Rejected."},
					},
				}
			}
		},
	}
