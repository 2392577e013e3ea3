"""The OpenAPI document of the inbound API, generated from the message schemas so it cannot drift.
A copy is kept in the repository (apps/medtrace/docs/openapi.json); a test checks they agree.

What every message refuses whatever its fields (messages.Message) is added to every field's schema here:
text without control characters, numbers within ±10^12."""

from pydantic.json_schema import models_json_schema

from medtrace.medtrace_integrations.inbound import MAX_BODY_BYTES, MESSAGE_ID_MAX_LENGTH, MESSAGE_ID_PATTERN
from medtrace.medtrace_integrations.messages import MESSAGE_TYPES, NUMBER_LIMIT, SCANNED_FIELDS
from medtrace.udi.identifiers import SCAN_PATTERN, TEXT_PATTERN
from medtrace.utils.filters import EARLIEST_DAY, LATEST_DAY

API = "/api/method/medtrace.medtrace_integrations.api_v1"
ENDPOINT = f"{API}.post_message"
RULES = (
	f"Every text value is free of control characters (U+0000–U+001F, U+007F–U+009F; a scanned label may keep the GS, "
	f"U+001D, between its fields); every number is finite and between -10^12 and 10^12; every date lies between "
	f"{EARLIEST_DAY} and {LATEST_DAY}. A request body may have at most {MAX_BODY_BYTES:,} bytes."
)


def constrained(schema: dict, scanned: bool = False) -> dict:
	"""The schema with what Message refuses in every field added to its strings and numbers."""
	if schema.get("type") == "string" and not ({"format", "pattern", "const", "enum"} & set(schema)):
		schema["pattern"] = SCAN_PATTERN if scanned else TEXT_PATTERN
	if schema.get("type") == "number":
		if "minimum" not in schema and "exclusiveMinimum" not in schema:
			schema["exclusiveMinimum"] = -NUMBER_LIMIT
		schema.setdefault("exclusiveMaximum", NUMBER_LIMIT)
	for key in ("anyOf", "oneOf", "allOf"):
		for option in schema.get(key, []):
			constrained(option, scanned)
	if isinstance(schema.get("items"), dict):
		constrained(schema["items"], scanned)
	for name, field in schema.get("properties", {}).items():
		constrained(field, name in SCANNED_FIELDS)
	return schema


def openapi_document() -> dict:
	_, definitions = models_json_schema(
		[(model, "validation") for model in MESSAGE_TYPES.values()], ref_template="#/components/schemas/{model}"
	)
	schemas = {name: constrained(schema) for name, schema in definitions["$defs"].items()}
	envelopes = []
	for message_type, model in MESSAGE_TYPES.items():
		envelope = f"{model.__name__}Envelope"
		schemas[envelope] = {
			"type": "object",
			"required": ["message_type", "message_id", "payload"],
			"properties": {
				"message_type": {"const": message_type},
				"message_id": {
					"type": "string", "minLength": 1, "maxLength": MESSAGE_ID_MAX_LENGTH, "pattern": MESSAGE_ID_PATTERN,
					"description": "Unique per system; a resend with the same id is refused (409). Surrounding spaces are dropped.",
				},
				"payload": {"$ref": f"#/components/schemas/{model.__name__}"},
			},
		}
		envelopes.append({"$ref": f"#/components/schemas/{envelope}"})
	error = {"description": "", "content": {"application/json": {"schema": {"type": "object"}}}}
	return {
		"openapi": "3.1.0",
		"info": {"title": "MedTrace inbound integration API", "version": "1", "description": RULES},
		"components": {
			"schemas": schemas,
			"securitySchemes": {"token": {"type": "apiKey", "in": "header", "name": "Authorization", "description": "token <api key>:<api secret>"}},
		},
		"security": [{"token": []}],
		"paths": {
			ENDPOINT: {
				"post": {
					"summary": "Send one message from MES, LIMS or WMS",
					"description": RULES,
					"requestBody": {"required": True, "content": {"application/json": {"schema": {"oneOf": envelopes}}}},
					"responses": {
						"202": {"description": "Accepted and queued; poll get_message for the outcome."},
						"403": {**error, "description": "Unknown or disabled API user."},
						"409": {**error, "description": "The message_id was received before."},
						"413": {**error, "description": f"The body has more than {MAX_BODY_BYTES:,} bytes; logged as Rejected."},
						"417": {**error, "description": "Missing or invalid message_id, message_type or payload, or invalid references; logged as Rejected when the message_id is valid."},
					},
				}
			},
			f"{API}.get_message": {
				"get": {
					"summary": "The outcome of a message sent before: its status, error and the documents it created",
					"parameters": [
						{"name": "message_id", "in": "query", "required": True, "schema": {"type": "string", "minLength": 1, "maxLength": MESSAGE_ID_MAX_LENGTH}}
					],
					"responses": {
						"200": {
							"description": "",
							"content": {"application/json": {"schema": {
								"type": "object", "required": ["message"],
								"properties": {"message": {"type": "object", "required": ["status", "error", "attempts", "documents"]}},
							}}},
						},
						"403": {**error, "description": "Unknown or disabled API user."},
						"404": {**error, "description": "No message with this id from this system."},
						"417": {**error, "description": "No message_id."},
					},
				}
			},
		},
	}
