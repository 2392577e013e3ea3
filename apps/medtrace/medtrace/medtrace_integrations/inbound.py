"""Inbound messages from MES, LIMS and WMS: validated and logged on arrival, processed exactly once by
the background worker, retried with growing delays after transient failures, replayable after a fix.

Exactly once: a message is processed in one transaction that locks its log row, creates the documents
and marks it Processed. A worker killed half-way commits nothing, so the message stays Queued and the
sweep hands it to a worker again; a second worker finding it Processed does nothing.

Messages are processed by drain jobs, not by a job each: a job costs a forked work horse that imports
ERPNext and connects anew, several times the work of a message. A drain takes waiting messages one after
another, each in its own transaction, oldest first, skipping those another drain holds, so drains on
several workers share a backlog. Arriving messages keep one drain waiting in the queue: a drain that has
started may already have looked for the last time, so it is not counted on.
"""

import json
import time

import frappe
from frappe import _
from frappe.query_builder import DocType
from frappe.utils import add_to_date, escape_html, now_datetime
from frappe.utils.background_jobs import get_job
from pydantic import ValidationError as SchemaError
from rq.job import JobStatus

from medtrace.medtrace_integrations.handlers import HANDLERS
from medtrace.medtrace_integrations.messages import MESSAGE_TYPES
from medtrace.udi.identifiers import refuse_control_characters

QUEUE = "default"
STALLED_AFTER_MINUTES = 2
# A drain hands its worker back to other jobs after this long, and leaves a drain waiting for the rest.
DRAIN_SECONDS = 120
WAITING_DRAIN = "medtrace_integration_waiting_drain"
# Oldest waiting messages a drain tries to lock before it leaves the rest to the drains holding them.
CLAIM_CANDIDATES = 20
TRANSIENT_ERRORS = (frappe.QueryDeadlockError, frappe.QueryTimeoutError)


# The largest request body post_message takes (documented in the OpenAPI document): a production of
# thousands of serial numbers is a few hundred kilobytes.
MAX_BODY_BYTES = 1024 * 1024
# A message is logged under "<system name>:<message id>", which must fit Frappe's 140-character names:
# system names are kept short enough for ids of this length (Integration System).
MESSAGE_ID_MAX_LENGTH = 100
NAME_LENGTH = 140
LOGGED_TEXT_LENGTH = 140
LOGGED_ERROR_LENGTH = 10_000
# Schema violations listed in a rejection; the count of the others follows.
LISTED_PROBLEMS = 20
# Frappe refuses < and > in names.
MESSAGE_ID_PATTERN = r"^[^<>\x00-\x1f\x7f-\x9f]*$"


class MessageTooLarge(frappe.ValidationError):
	http_status_code = 413


def system_of_current_user():
	name = frappe.db.get_value("Integration System", {"api_user": frappe.session.user, "enabled": 1})
	if not name:
		frappe.throw(_("No enabled integration system uses this API user."), frappe.PermissionError)
	return frappe.get_cached_doc("Integration System", name)


def reject(message: str, exception=frappe.ValidationError) -> None:
	frappe.throw(message, exception, title=_("Message Rejected"))


def parse(message_type, payload):
	"""The message a payload (a dictionary, or JSON text of one) makes as message_type says, or the
	rejection saying what is wrong."""
	if not message_type:
		reject(_("message_type is required; known types: {0}.").format(", ".join(MESSAGE_TYPES)))
	model = MESSAGE_TYPES.get(message_type)
	if not model:
		reject(_("Unknown message type {0}; known types: {1}.").format(escape_html(message_type), ", ".join(MESSAGE_TYPES)))
	try:
		return model.model_validate(parsed_payload(payload))
	except SchemaError as error:
		found = error.errors()
		problems = "; ".join(
			f"{'.'.join(str(part) for part in problem['loc']) or 'payload'}: {problem['msg']}" for problem in found[:LISTED_PROBLEMS]
		)
		if len(found) > LISTED_PROBLEMS:
			problems += "; " + _("and {0} more").format(len(found) - LISTED_PROBLEMS)
		reject(_("The payload does not match schema {0}: {1}").format(message_type, escape_html(problems)))


def validate_message(system, message_type: str, payload):
	message = parse(message_type, payload)
	check, _apply = HANDLERS[message_type]
	check(message, system)
	return message


def parsed_payload(payload) -> dict:
	"""The payload as a dictionary: sent as a JSON object, or as text holding one."""
	if payload is None:
		reject(_("payload is required: the message's content, a JSON object."))
	if isinstance(payload, str):
		try:
			payload = json.loads(payload)
		except ValueError as error:
			reject(_("payload is not valid JSON: {0}").format(error))
	if not isinstance(payload, dict):
		reject(_("payload must be a JSON object, not {0}.").format(type(payload).__name__))
	return payload


def payload_record(payload) -> str:
	"""The payload as received, as JSON text for the log: text that is not JSON is kept as a JSON string."""
	if isinstance(payload, str):
		try:
			payload = json.loads(payload)
		except ValueError:
			pass
	return json.dumps(payload, indent=1, sort_keys=True, default=str)


def checked_message_id(system, message_id) -> str:
	if not isinstance(message_id, str) or not message_id.strip():
		reject(_("message_id is required: the sending system's own unique id of the message."))
	refuse_control_characters(message_id, _("Message ID"))
	message_id = message_id.strip()
	if "<" in message_id or ">" in message_id:
		reject(_("message_id must not contain < or >."))
	longest = min(MESSAGE_ID_MAX_LENGTH, NAME_LENGTH - len(system.name) - 1)
	if len(message_id) > longest:
		reject(_("message_id has {0} characters; at most {1} are accepted.").format(len(message_id), longest))
	return message_id


def body_size() -> int:
	request = getattr(frappe.local, "request", None)
	return len(request.get_data()) if request else 0


def log_to_record(system, message_id: str):
	"""The log to record this message in, locked until the transaction ends: a new one, or the log of a
	rejected message sent again. A message received before and not rejected is refused (409).

	The lock makes a resend wait for a resend of the same id in flight, then see what became of it: the
	first is accepted, the second refused as a duplicate."""
	name = f"{system.name}:{message_id}"
	if not frappe.db.exists("Integration Message", name):
		# Two first sends of one id: the database's unique name refuses the second insert (409).
		return frappe.new_doc("Integration Message")
	log = frappe.get_doc("Integration Message", name, for_update=True)
	if log.status != "Rejected":
		log.add_comment("Info", _("Duplicate received at {0} and ignored.").format(now_datetime()))
		frappe.db.commit()
		frappe.throw(
			_("Message {0} was already received (status {1}); it is not processed again.").format(message_id, _(log.status)),
			frappe.DuplicateEntryError,
			title=_("Duplicate Message"),
		)
	return log


def receive_message(message_type, message_id, payload) -> dict:
	"""post_message: the message checked, logged and queued, or refused with what is wrong (logged as
	Rejected when its id can name a log)."""
	system = system_of_current_user()
	message_id = checked_message_id(system, message_id)
	log = log_to_record(system, message_id)
	size = body_size()
	log.update(
		{
			"integration_system": system.name,
			# What was sent, as much of it as the log holds: a message type that is none of the known is refused.
			"message_type": message_type[:LOGGED_TEXT_LENGTH] if isinstance(message_type, str) else None,
			"client_message_id": message_id,
			# Too large to keep: what was wrong is in the error.
			"payload": None if size > MAX_BODY_BYTES else payload_record(payload),
			"received_at": now_datetime(),
			"error": None,
		}
	)
	frappe.db.savepoint("medtrace_receive_message")
	try:
		if size > MAX_BODY_BYTES:
			reject(_("The request body has {0} bytes; at most {1} are accepted.").format(size, MAX_BODY_BYTES), MessageTooLarge)
		validate_message(system, message_type, payload)
	except frappe.ValidationError:
		error = frappe.message_log[-1] if frappe.message_log else {}
		# To the savepoint, so the log stays locked.
		frappe.db.rollback(save_point="medtrace_receive_message")
		log.status = "Rejected"
		log.error = (frappe.parse_json(error).get("message") if error else _("Invalid message"))[:LOGGED_ERROR_LENGTH]
		# A rejected message is logged with what it lacks (a message type).
		log.flags.ignore_mandatory = True
		log.save(ignore_permissions=True)
		frappe.db.commit()
		raise
	log.status = "Queued"
	log.save(ignore_permissions=True)
	frappe.db.commit()
	enqueue_processing()
	frappe.local.response.http_status_code = 202
	return {"message": log.name, "status": log.status}


def enqueue_processing() -> None:
	"""Make sure a drain job is waiting in the queue."""
	waiting = frappe.cache.get_value(WAITING_DRAIN)
	job = waiting and get_job(waiting)
	if job and job.get_status(refresh=False) == JobStatus.QUEUED:
		return
	job_id = f"medtrace-integration-drain-{frappe.generate_hash(length=12)}"
	frappe.enqueue("medtrace.medtrace_integrations.inbound.drain_messages", queue=QUEUE, timeout=DRAIN_SECONDS * 5, job_id=job_id)
	frappe.cache.set_value(WAITING_DRAIN, job_id)


def drain_messages() -> None:
	"""Background job: process waiting messages until none is left, or for DRAIN_SECONDS."""
	deadline = time.monotonic() + DRAIN_SECONDS
	while time.monotonic() < deadline:
		name = claim_next_message()
		if not name:
			frappe.db.rollback()
			return
		process_message(name)
	enqueue_processing()


def claim_next_message() -> str | None:
	"""The oldest message due for processing that no other drain holds, locked for this transaction: a
	retry that is due first, then what is queued.

	Candidates are read without locks and locked one at a time by name. A locking read over the status
	index would also lock the gaps beside the entries it reads, which every arriving message and every
	change of status inserts into: drains and arriving messages would deadlock."""
	Message = DocType("Integration Message")
	for due in (
		(Message.status == "Retrying") & (Message.next_attempt_at <= now_datetime()),
		Message.status == "Queued",
	):
		candidates = (
			frappe.qb.from_(Message).select(Message.name).where(due).orderby(Message.received_at).limit(CLAIM_CANDIDATES).run(pluck=True)
		)
		for name in candidates:
			if frappe.qb.from_(Message).select(Message.name).where((Message.name == name) & due).for_update(skip_locked=True).run():
				return name
	return None


def process_message(name: str) -> None:
	"""One message, one transaction: for drains, and for a replay from the Desk."""
	try:
		run_message(name)
	except TRANSIENT_ERRORS as error:
		# A deadlock or lock timeout rolls back the whole transaction, savepoints included.
		frappe.db.rollback()
		message = frappe.get_doc("Integration Message", name, for_update=True)
		message.attempts = (message.attempts or 0) + 1
		schedule_retry(message, frappe.get_cached_doc("Integration System", message.integration_system), str(error))
		message.save(ignore_permissions=True)
		frappe.db.commit()


def run_message(name: str) -> None:
	message = frappe.get_doc("Integration Message", name, for_update=True)
	if message.status not in ("Queued", "Retrying"):
		return
	system = frappe.get_cached_doc("Integration System", message.integration_system)
	message.attempts = (message.attempts or 0) + 1
	caller = frappe.session.user
	frappe.set_user(system.api_user)
	frappe.db.savepoint("medtrace_integration_message")
	try:
		parsed = validate_message(system, message.message_type, message.payload)
		_check, apply = HANDLERS[message.message_type]
		documents = apply(parsed, system, message.client_message_id)
	except TRANSIENT_ERRORS:
		frappe.set_user(caller)
		raise
	except Exception as error:
		# Anything else stays wrong until someone corrects the payload or the data and replays it.
		frappe.db.rollback(save_point="medtrace_integration_message")
		message.status = "Failed"
		message.error = str(error) or error.__class__.__name__
		frappe.clear_messages()
	else:
		message.status = "Processed"
		message.error = None
		message.processed_at = now_datetime()
		message.created_documents = json.dumps([{"doctype": d.doctype, "name": d.name} for d in documents])
	frappe.set_user(caller)
	message.save(ignore_permissions=True)
	frappe.db.commit()


def schedule_retry(message, system, error: str) -> None:
	if message.attempts >= (system.max_attempts or 5):
		message.status = "Failed"
		message.error = _("Gave up after {0} attempts: {1}").format(message.attempts, error)
		return
	message.status = "Retrying"
	message.error = error
	message.next_attempt_at = add_to_date(now_datetime(), seconds=30 * 2 ** (message.attempts - 1))


def requeue_due_messages(stalled_after_minutes: int = STALLED_AFTER_MINUTES) -> None:
	"""Scheduler, every minute: when retries are due, or messages wait longer than a drain would leave them
	(their drain was lost with a killed worker or a restarted Redis), a drain is made to wait for them."""
	Message = DocType("Integration Message")
	stalled_since = add_to_date(now_datetime(), minutes=-stalled_after_minutes)
	waiting = (
		frappe.qb.from_(Message)
		.select(Message.name)
		.where(
			((Message.status == "Queued") & (Message.received_at < stalled_since))
			| ((Message.status == "Retrying") & (Message.next_attempt_at <= now_datetime()))
		)
		.limit(1)
		.run()
	)
	if waiting:
		enqueue_processing()


@frappe.whitelist(methods=["POST"])
def replay_message(name: str) -> str:
	"""Desk: process a failed or rejected message again, after its payload was corrected."""
	message = frappe.get_doc("Integration Message", name)
	message.check_permission("write")
	if message.status == "Processed":
		frappe.throw(_("Message {0} was already processed; replaying it would duplicate its documents.").format(name))
	system = frappe.get_doc("Integration System", message.integration_system)
	caller = frappe.session.user
	frappe.set_user(system.api_user)
	try:
		validate_message(system, message.message_type, message.payload)
	finally:
		frappe.set_user(caller)
	message.status = "Queued"
	message.error = None
	message.save()
	frappe.db.commit()
	process_message(name)
	return frappe.db.get_value("Integration Message", name, "status")
