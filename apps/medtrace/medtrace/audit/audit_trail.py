"""The audit trail of what MedTrace audits: every MedTrace doctype and every ERPNext doctype MedTrace adds
fields to (Batch, Serial No, …), 21 CFR 11.10(e) style — who created, changed, deleted or renamed which
record, when, and how the change arrived.

Frappe keeps changes as Version rows (track_changes) but records neither creation nor deletion — it even
deletes a record's Versions with the record. So MedTrace adds a creation Version for audited records and
seals deletions and renames into the audit chain (medtrace.audit.audit_chain), which keeps them after
Frappe's own rows are gone.

Every Version of an audited record is stamped with how the change arrived, in its data:

- ``medtrace_channel``: Desk, REST API, Background Job, Scheduled Job, Data Import, Patch, Migrate, Console
- ``medtrace_request``: the HTTP method and path, or the job's method; ``medtrace_ip``: the client's address
- ``medtrace_change_request``: the Change Request the change was made under. Code applying a Change
  Request saves inside ``with via_change_request(name):`` — or writes the key into the Version's data
  itself, which is then kept as it is.
"""

import json
from contextlib import contextmanager

import frappe
from frappe import _
from frappe.utils import cint

from medtrace.audit.audit_chain import queue_event
from medtrace.audit.audited import is_audited


@contextmanager
def via_change_request(change_request: str):
	"""Versions written inside this block record the Change Request the changes were made under."""
	previous = frappe.flags.medtrace_change_request
	frappe.flags.medtrace_change_request = change_request
	try:
		yield
	finally:
		frappe.flags.medtrace_change_request = previous


def arrival() -> tuple[str, str | None]:
	"""Through which channel the current change arrives, and the request or job behind it."""
	if frappe.flags.in_patch:
		return "Patch", None
	if frappe.flags.in_migrate or frappe.flags.in_install:
		return "Migrate", None
	if frappe.flags.in_import:
		return "Data Import", None
	request = getattr(frappe.local, "request", None)
	if request:
		return http_channel(request), f"{request.method} {request.path}"
	job = getattr(frappe.local, "job", None)
	if job:
		scheduled = (job.kwargs or {}).get("job_type")
		return ("Scheduled Job", scheduled) if scheduled else ("Background Job", job.method)
	return "Console", None


def http_channel(request) -> str:
	# The Desk's frappe.call always sends the session's CSRF token; API clients authenticate with an
	# Authorization header (token, OAuth) or, from scripts holding a session cookie, send no token.
	if request.headers.get("Authorization") or not request.headers.get("X-Frappe-CSRF-Token"):
		return "REST API"
	return "Desk"


def change_context() -> dict:
	channel, request = arrival()
	context = {
		"medtrace_channel": channel,
		"medtrace_request": request,
		"medtrace_ip": getattr(frappe.local, "request_ip", None) if request else None,
		"medtrace_change_request": frappe.flags.medtrace_change_request,
	}
	return {key: value for key, value in context.items() if value}


def stamp_version(version, method=None) -> None:
	"""Version before_insert: how the change to an audited record arrived."""
	if not is_audited(version.ref_doctype):
		return
	data = json.loads(version.data or "{}")
	for key, value in change_context().items():
		data.setdefault(key, value)
	version.data = compact_json(data)


def record_creation(doc, method=None) -> None:
	"""after_insert of every doctype: a creation Version for audited records (Frappe versions changes
	only). Frappe writes its own when the insert carries an updater reference."""
	if frappe.flags.in_install or doc.flags.ignore_version or doc.flags.updater_reference:
		return
	if not is_audited(doc.doctype):
		return
	version = frappe.new_doc("Version")
	version.update(
		{
			"ref_doctype": doc.doctype,
			"docname": doc.name,
			"data": compact_json({"creation": doc.creation, "created_by": doc.owner}),
		}
	)
	# Nobody has a Version open as it is created. Its realtime notifications would only slow down requests
	# creating many records: Frappe compares each notification with every one the request queued before.
	version.flags.notify_update = False
	version.insert(ignore_permissions=True)


def record_deletion(doc, method=None) -> None:
	"""after_delete of every doctype: the deleted record, as it was, goes into the audit chain."""
	if frappe.flags.in_install or not is_audited(doc.doctype):
		return
	queue_event("Deleted", doc.doctype, doc.name, {"record": doc.as_json(), **change_context()})


def record_rename(doc, method, old: str, new: str, merge: bool = False) -> None:
	"""after_rename of every doctype. Frappe moves the record's Versions to the new name."""
	if not is_audited(doc.doctype):
		return
	queue_event("Renamed", doc.doctype, new, {"from": old, "to": new, "merge": cint(merge), **change_context()})


def keep_audit_trail_on(property_setter, method=None) -> None:
	"""Property Setter validate: Customize Form must not switch off Track Changes of an audited doctype."""
	if (
		property_setter.property == "track_changes"
		and not cint(property_setter.value)
		and is_audited(property_setter.doc_type)
	):
		frappe.throw(
			_("{0} is part of MedTrace's audit trail: its changes must stay tracked.").format(
				frappe.bold(_(property_setter.doc_type))
			),
			title=_("Audit Trail Required"),
		)


def db_update_tracked(doc) -> None:
	"""``doc.db_update()`` (no hooks, no validation) that still leaves a Version of what it changed."""
	doc._doc_before_save = frappe.get_doc(doc.doctype, doc.name)
	doc.db_update()
	doc.save_version()


def compact_json(value) -> str:
	return frappe.as_json(value, indent=None, separators=(",", ":"))
