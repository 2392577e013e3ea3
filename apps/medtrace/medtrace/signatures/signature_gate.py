"""The signature gate: a workflow state that a transition marks as signed (the transition names an
E-Signature Meaning) is reached only through the signing call (medtrace.signatures.esignature.apply_workflow),
and the evidence of signatures is written only by the signing code.

Frappe lets a document be written along many paths; each passes one of the hooks below (hooks.py, "*"):
- insert, save and submit — the Desk, REST POST/PUT, frappe.client.insert/set_value/submit, Data Import,
  and bulk workflow approval of a draft — run before_validate;
- update after submit — set_value, REST PUT or bulk approval of a submitted document — runs
  before_update_after_submit and no validate;
- cancel runs before_cancel, rename before_rename;
- Frappe itself moves the state on submit (set_workflow_state_on_action: a plain submit lands on the
  workflow's first submitted state) after every before_* hook, so on_update and on_update_after_submit look
  at the state once more; the refusal there rolls the whole write back;
- db_set and frappe.db.set_value run no hook: only server code can call them, and it is trusted.

Fields a workflow state sets (update_field, e.g. a Change Request's or Recall's status) follow the state:
nothing may write them to another value than the document's state gives them.
"""

from contextlib import contextmanager

import frappe
from frappe import _
from frappe.model import no_value_fields, table_fields
from frappe.model.workflow import get_workflow_name
from frappe.utils import cstr


class SignatureError(frappe.ValidationError):
	"""A signature that could not be made (missing or wrong credentials, signing locked), or a signed state
	reached without one."""


class SignatureEvidenceError(frappe.PermissionError):
	"""Evidence of a signature written outside the signing code."""


# The signing code's marks; frappe.flags lives for one request or job and no client can set it.


@contextmanager
def signed_transition(document, next_state: str):
	"""The signed workflow transition of this document to next_state is being applied."""
	previous = frappe.flags.medtrace_signed_transition
	frappe.flags.medtrace_signed_transition = (document.doctype, document.name, next_state)
	try:
		yield
	finally:
		frappe.flags.medtrace_signed_transition = previous


@contextmanager
def writing_signature_evidence():
	"""Signature evidence (signatures, attempts, release fields, approvals) is being written by signing."""
	previous = frappe.flags.medtrace_signature_evidence
	frappe.flags.medtrace_signature_evidence = True
	try:
		yield
	finally:
		frappe.flags.medtrace_signature_evidence = previous


def is_signed_transition(doc, state) -> bool:
	return frappe.flags.medtrace_signed_transition == (doc.doctype, doc.name, state)


# What a workflow signs


def signed_workflow(doctype: str) -> frappe._dict | None:
	"""The doctype's active workflow, if any of its transitions is an electronic signature."""
	name = get_workflow_name(doctype)
	if not name:
		return None
	workflow = frappe.get_cached_doc("Workflow", name)
	signed = {
		(row.state, row.next_state): row.medtrace_signature_meaning
		for row in workflow.transitions
		if row.get("medtrace_signature_meaning")
	}
	if not signed:
		return None
	states = {row.state: row for row in workflow.states}
	state_field = workflow.workflow_state_field
	return frappe._dict(
		name=name,
		state_field=state_field,
		first_state=workflow.states[0].state if workflow.states else None,
		states=states,
		signed=signed,
		unsigned={(row.state, row.next_state) for row in workflow.transitions if not row.get("medtrace_signature_meaning")},
		signed_states={next_state for _state, next_state in signed},
		derived_fields={row.update_field for row in workflow.states if row.update_field and row.update_field != state_field},
		cancel_meaning=next(
			(meaning for (_state, next_state), meaning in signed.items() if states.get(next_state) and states[next_state].doc_status == "2"),
			None,
		),
	)


# The gate


def refuse_unsigned_write(doc, method=None) -> None:
	"""before_validate, before_update_after_submit, before_cancel of every doctype: what the caller wrote."""
	refuse_forged_evidence(doc)
	workflow = signed_workflow(doc.doctype)
	if not workflow:
		return
	before = doc.get_doc_before_save()
	refuse_unsigned_state(doc, workflow, before)
	refuse_written_derived_fields(doc, workflow, before)
	if method == "before_cancel" and workflow.cancel_meaning and not is_signed_transition(doc, doc.get(workflow.state_field)):
		frappe.throw(
			_("Cancelling {0} {1} is an electronic signature ({2}): use the workflow action and sign it.").format(
				_(doc.doctype), doc.name, _(workflow.cancel_meaning)
			),
			SignatureError,
			title=_("Signature Required"),
		)


def refuse_unsigned_state_change(doc, method=None) -> None:
	"""on_update, on_update_after_submit of every doctype: the state as Frappe wrote it."""
	workflow = signed_workflow(doc.doctype)
	if workflow:
		refuse_unsigned_state(doc, workflow, doc.get_doc_before_save())


def refuse_unsigned_state(doc, workflow, before) -> None:
	state = doc.get(workflow.state_field)
	if before is None:
		# A new document starts in the workflow's first state (Frappe refuses any other, except on submit).
		previous = None
		if not state or state == workflow.first_state:
			return
	else:
		previous = before.get(workflow.state_field)
		if previous == state:
			return
	meaning = workflow.signed.get((previous, state))
	if not meaning and (state not in workflow.signed_states or (previous, state) in workflow.unsigned):
		return
	if is_signed_transition(doc, state):
		return
	meaning = meaning or next(m for (_state, next_state), m in workflow.signed.items() if next_state == state)
	frappe.throw(
		_("Moving {0} {1} to {2} is an electronic signature ({3}): use the workflow action and sign it.").format(
			_(doc.doctype), doc.name or "", frappe.bold(_(state)), _(meaning)
		),
		SignatureError,
		title=_("Signature Required"),
	)


def refuse_written_derived_fields(doc, workflow, before) -> None:
	"""A field a workflow state sets holds what the document's state gives it, or stays as it was."""
	state = workflow.states.get(doc.get(workflow.state_field) or workflow.first_state)
	for fieldname in workflow.derived_fields:
		value = cstr(doc.get(fieldname))
		stored = cstr(before.get(fieldname) if before else doc.meta.get_field(fieldname) and doc.meta.get_field(fieldname).default)
		if value == stored:
			continue
		if state and state.update_field == fieldname and cstr(state.update_value) == value:
			continue
		label = doc.meta.get_label(fieldname)
		frappe.throw(
			_("{0} of {1} {2} follows its workflow state and cannot be set to {3}: use the workflow action.").format(
				_(label), _(doc.doctype), doc.name or "", frappe.bold(_(value))
			),
			SignatureError,
			title=_("Signature Required"),
		)


# Evidence


def signature_evidence() -> dict[str, list[str]]:
	"""hooks.py medtrace_signature_evidence: doctype → its evidence fields, ["*"] for the whole record."""
	return frappe.get_hooks("medtrace_signature_evidence") or {}


def refuse_forged_evidence(doc) -> None:
	if frappe.flags.medtrace_signature_evidence:
		return
	fields = signature_evidence().get(doc.doctype)
	if not fields:
		return
	if "*" in fields:
		if doc.is_new():
			frappe.throw(
				_("{0} is evidence of electronic signing: only a signature writes it.").format(_(doc.doctype)),
				SignatureEvidenceError,
				title=_("Not Allowed"),
			)
		return
	before = doc.get_doc_before_save()
	written = [doc.meta.get_label(fieldname) for fieldname in fields if evidence_written(doc, before, fieldname)]
	if written:
		frappe.throw(
			_("{0} of {1} {2}: written only by an electronic signature.").format(
				", ".join(_(label) for label in written), _(doc.doctype), doc.name or ""
			),
			SignatureEvidenceError,
			title=_("Not Allowed"),
		)


def evidence_written(doc, before, fieldname: str) -> bool:
	# Compared as text: a form or REST client sends back dates and numbers as the strings it was given.
	if doc.meta.get_field(fieldname).fieldtype in table_fields:
		return rows_as_text(before.get(fieldname) if before else []) != rows_as_text(doc.get(fieldname))
	return cstr(before.get(fieldname) if before else None) != cstr(doc.get(fieldname))


def rows_as_text(rows) -> list[tuple]:
	return [
		tuple(cstr(row.get(df.fieldname)) for df in row.meta.fields if df.fieldtype not in no_value_fields)
		for row in rows or []
	]


def refuse_renaming_signed(doc, method=None, old=None, new=None, merge=False) -> None:
	"""before_rename of every doctype: a signature names the record it signs (21 CFR 11.70)."""
	fields = signature_evidence().get(doc.doctype) or []
	if "*" in fields or frappe.db.exists("Electronic Signature", {"reference_doctype": doc.doctype, "reference_name": old or doc.name}):
		frappe.throw(
			_("{0} {1} is signed electronically or is signature evidence: it cannot be renamed.").format(_(doc.doctype), old or doc.name),
			SignatureEvidenceError,
			title=_("Not Allowed"),
		)
