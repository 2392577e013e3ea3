"""Separation of duties in workflows (ISO 13485 §4.1.5 / 21 CFR 820 independence of review): Separation of
Duties Rules name a workflow action that the user who did an earlier action of the same document — or who
created it — may not do, e.g. whoever implemented a change may not verify it.

Who did an action is read from the record: the Electronic Signatures of signed actions (a Change Request
gathers several approvals before it moves on) and the Versions in which the document's workflow state
changed along one of the action's transitions. Administrator is exempt, as from Frappe's own self-approval
check (frappe.model.workflow.has_approval_access): it is the site's technical account, not a person.
The workflow path (medtrace.signatures.esignature.apply_workflow) refuses a breach before any password is
asked for; forms show the restrictions that apply to the user (get_duty_restrictions).
"""

import json

import frappe
from frappe import _
from frappe.model.workflow import get_workflow_name
from frappe.utils import get_fullname

from medtrace.utils.filters import checked_doctype

RULE = "Separation of Duties Rule"
CREATED = "Created the Document"


def validate_rule(rule) -> None:
	"""A rule names actions its workflow has, and not the same action twice."""
	if rule.earlier_act != CREATED and not rule.earlier_action:
		frappe.throw(_("Name the Earlier Workflow Action whose user may not take this one."), title=_("Invalid Separation of Duties Rule"))
	actions = set(frappe.get_all("Workflow Transition", filters={"parent": rule.workflow}, pluck="action"))
	earlier = [] if rule.earlier_act == CREATED else [rule.earlier_action]
	for action in (rule.action, *earlier):
		if action not in actions:
			frappe.throw(
				_("Workflow {0} has no action {1}; its actions are {2}.").format(
					frappe.bold(rule.workflow), frappe.bold(action), ", ".join(sorted(actions))
				),
				title=_("Invalid Separation of Duties Rule"),
			)


def duty_breaches(document, action: str, user: str) -> list[str]:
	"""Why the user may not take the action on the document, one message per rule that forbids it."""
	workflow = get_workflow_name(document.doctype)
	if not workflow or user == "Administrator":
		return []
	rules = frappe.get_all(
		RULE,
		filters={"workflow": workflow, "action": action, "enabled": 1},
		fields=["earlier_act", "earlier_action", "reason"],
		order_by="rule_name asc",
	)
	breaches = []
	for rule in rules:
		if rule.earlier_act == CREATED:
			if document.owner != user:
				continue
			message = _("{0} created {1} {2}, so another person must {3} it.").format(
				get_fullname(user), _(document.doctype), document.name, _(action)
			)
		else:
			if user not in users_who_did(document, workflow, rule.earlier_action):
				continue
			message = _("{0} did {1} on {2} {3}, so another person must {4} it.").format(
				get_fullname(user), _(rule.earlier_action), _(document.doctype), document.name, _(action)
			)
		breaches.append(f"{message} {rule.reason}" if rule.reason else message)
	return breaches


def users_who_did(document, workflow: str, action: str) -> set[str]:
	"""The users who took the action on the document: its signers, and the authors of the state changes."""
	signers = frappe.get_all(
		"Electronic Signature",
		filters={"reference_doctype": document.doctype, "reference_name": document.name, "workflow_action": action},
		pluck="signer",
	)
	workflow_doc = frappe.get_cached_doc("Workflow", workflow)
	moves = {(t.state, t.next_state) for t in workflow_doc.transitions if t.action == action}
	state_field = workflow_doc.workflow_state_field
	authors = set()
	for version in frappe.get_all(
		"Version", filters={"ref_doctype": document.doctype, "docname": document.name}, fields=["owner", "data"]
	):
		changes = json.loads(version.data or "{}").get("changed") or []
		if any(change[0] == state_field and (change[1], change[2]) in moves for change in changes):
			authors.add(version.owner)
	return set(signers) | authors


def refuse_duty_breach(document, action: str) -> None:
	"""The workflow path's check: refused before anything is signed or saved."""
	breaches = duty_breaches(document, action, frappe.session.user)
	if breaches:
		frappe.throw(" ".join(breaches), frappe.PermissionError, title=_("Separation of Duties"))


@frappe.whitelist()
def get_duty_restrictions(doctype: str, name: str) -> list[dict]:
	"""For the form: the actions of the document's present state the session's user may not take, and why."""
	document = frappe.get_doc(checked_doctype(doctype, _("Document Type")), name)
	document.check_permission("read")
	workflow = get_workflow_name(doctype)
	if not workflow:
		return []
	workflow_doc = frappe.get_cached_doc("Workflow", workflow)
	state = document.get(workflow_doc.workflow_state_field)
	actions = sorted({t.action for t in workflow_doc.transitions if t.state == state})
	restrictions = []
	for action in actions:
		breaches = duty_breaches(document, action, frappe.session.user)
		if breaches:
			restrictions.append({"action": action, "message": " ".join(breaches)})
	return restrictions
