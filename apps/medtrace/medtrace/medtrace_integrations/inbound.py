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
from frappe.utils import add_to_date, now_datetime
from frappe.utils.background_jobs import get_job
from pydantic import ValidationError as SchemaError
from rq.job import JobStatus

from medtrace.medtrace_integrations.handlers import HANDLERS
from medtrace.medtrace_integrations.messages import MESSAGE_TYPES

QUEUE = "default"
STALLED_AFTER_MINUTES = 2
# A drain hands its worker back to other jobs after this long, and leaves a drain waiting for the rest.
DRAIN_SECONDS = 120
WAITING_DRAIN = "medtrace_integration_waiting_drain"
# Oldest waiting messages a drain tries to lock before it leaves the rest to the drains holding them.
CLAIM_CANDIDATES = 20
TRANSIENT_ERRORS = (frappe.QueryDeadlockError, frappe.QueryTimeoutError)


def system_of_current_user():
	name = frappe.db.get_value("Integration System", {"api_user": frappe.session.user, "enabled": 1})
	if not name:
		frappe.throw(_("No enabled integration system uses this API user."), frappe.PermissionError)
	return frappe.get_cached_doc("Integration System", name)


def parse(message_type: str, payload: dict):
	model = MESSAGE_TYPES.get(message_type)
	if not model:
		frappe.throw(
			_("Unknown message type {0}; known types: {1}.").format(message_type, ", ".join(MESSAGE_TYPES)),
			title=_("Message Rejected"),
		)
	try:
		return model.model_validate(payload)
	except SchemaError as error:
		problems = "; ".join(
			f"{'.'.join(str(part) for part in problem['loc']) or 'payload'}: {problem['msg']}" for problem in error.errors()
		)
		frappe.throw(_("The payload does not match schema {0}: {1}").format(message_type, problems), title=_("Message Rejected"))


def validate_message(system, message_type: str, payload: dict):
	message = parse(message_type, payload)
	check, _apply = HANDLERS[message_type]
	check(message, system)
	return message


def receive_message(message_type: str, message_id: str, payload) -> dict:
	system = system_of_current_user()
	if not message_id or len(message_id) > 100:
		frappe.throw(_("message_id must be 1 to 100 characters."), title=_("Message Rejected"))
	payload = json.loads(payload) if isinstance(payload, str) else payload
	name = f"{system.name}:{message_id}"
	existing = frappe.db.get_value("Integration Message", name, ["status"], as_dict=True)
	if existing and existing.status != "Rejected":
		frappe.get_doc("Integration Message", name).add_comment(
			"Info", _("Duplicate received at {0} and ignored.").format(now_datetime())
		)
		frappe.db.commit()
		frappe.throw(
			_("Message {0} was already received (status {1}); it is not processed again.").format(message_id, _(existing.status)),
			frappe.DuplicateEntryError,
			title=_("Duplicate Message"),
		)
	log = frappe.get_doc("Integration Message", name) if existing else frappe.new_doc("Integration Message")
	log.update(
		{
			"integration_system": system.name,
			"message_type": message_type,
			"client_message_id": message_id,
			"payload": json.dumps(payload, indent=1, sort_keys=True, default=str),
			"received_at": now_datetime(),
			"error": None,
		}
	)
	try:
		validate_message(system, message_type, payload)
	except frappe.ValidationError:
		error = frappe.message_log[-1] if frappe.message_log else {}
		frappe.db.rollback()
		log.status = "Rejected"
		log.error = frappe.parse_json(error).get("message") if error else _("Invalid message")
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
		parsed = validate_message(system, message.message_type, json.loads(message.payload))
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
		validate_message(system, message.message_type, json.loads(message.payload))
	finally:
		frappe.set_user(caller)
	message.status = "Queued"
	message.error = None
	message.save()
	frappe.db.commit()
	process_message(name)
	return frappe.db.get_value("Integration Message", name, "status")
