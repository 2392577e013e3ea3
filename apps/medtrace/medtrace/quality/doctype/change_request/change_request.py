# Copyright (c) 2026, MedTrace and contributors
# For license information, please see license.txt

import frappe
from frappe import _
from frappe.model.document import Document
from frappe.model.workflow import get_workflow_name

from medtrace.quality.change_control import apply_changes, assess_impact, validate_change
from medtrace.signatures.signature_gate import writing_signature_evidence
from medtrace.setup.permissions import QUALITY_APPROVER


class ChangeRequest(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF
		from medtrace.quality.doctype.change_request_affected_record.change_request_affected_record import ChangeRequestAffectedRecord
		from medtrace.quality.doctype.change_request_approval.change_request_approval import ChangeRequestApproval
		from medtrace.quality.doctype.change_request_approval_requirement.change_request_approval_requirement import ChangeRequestApprovalRequirement
		from medtrace.quality.doctype.change_request_change.change_request_change import ChangeRequestChange
		from medtrace.quality.doctype.change_request_task.change_request_task import ChangeRequestTask

		affected_records: DF.Table[ChangeRequestAffectedRecord]
		amended_from: DF.Link | None
		approval_requirements: DF.Table[ChangeRequestApprovalRequirement]
		approvals: DF.Table[ChangeRequestApproval]
		change_type: DF.Literal["Product", "Process", "Labeling", "Documentation", "Software", "Supplier"]
		description: DF.TextEditor
		implementation_notes: DF.SmallText | None
		proposed_changes: DF.Table[ChangeRequestChange]
		regulatory_impact: DF.SmallText | None
		risk_assessment: DF.SmallText | None
		risk_level: DF.Literal["", "Low", "Medium", "High"]
		status: DF.Literal["Draft", "Impact Review", "Approved", "Implemented", "Verified", "Closed", "Rejected"]
		target_date: DF.Date | None
		tasks: DF.Table[ChangeRequestTask]
		title: DF.Data
		verification_plan: DF.TextEditor | None
		verification_result: DF.SmallText | None
		workflow_state: DF.Link | None
	# end: auto-generated types

	def before_validate(self):
		if not self.approval_requirements:
			self.append("approval_requirements", {"role": QUALITY_APPROVER, "approvals_needed": 1})

	def validate(self):
		self.validate_affected_records()
		self.validate_approval_requirements()
		if self.docstatus == 0:
			listed = {(row.reference_doctype, row.reference_name) for row in self.affected_records}
			for change in self.proposed_changes:
				validate_change(change, listed)
		if self.has_value_changed("status") and self.status == "Impact Review":
			self.validate_ready_for_review()

	def before_update_after_submit(self):
		if self.has_value_changed("status") and self.status == "Implemented":
			self.validate_tasks_done()

	def on_update_after_submit(self):
		if self.has_value_changed("status") and self.status == "Implemented":
			apply_changes(self)

	def validate_affected_records(self):
		seen = set()
		for row in self.affected_records:
			if not frappe.db.exists(row.reference_doctype, row.reference_name):
				frappe.throw(_("Affected records row {0}: {1} {2} does not exist.").format(row.idx, _(row.reference_doctype), row.reference_name))
			if (row.reference_doctype, row.reference_name) in seen:
				frappe.throw(_("Affected records row {0}: {1} {2} is listed twice.").format(row.idx, _(row.reference_doctype), row.reference_name))
			seen.add((row.reference_doctype, row.reference_name))

	def validate_approval_requirements(self):
		approving_roles = roles_that_approve()
		seen = set()
		for row in self.approval_requirements:
			if row.role in seen:
				frappe.throw(_("Approvals row {0}: role {1} is listed twice.").format(row.idx, frappe.bold(row.role)))
			seen.add(row.role)
			if (row.approvals_needed or 0) < 1:
				frappe.throw(_("Approvals row {0}: at least one approver of {1} is needed.").format(row.idx, frappe.bold(_(row.role))))
			if row.role not in approving_roles:
				frappe.throw(
					_("Approvals row {0}: {1} cannot approve Change Requests; the workflow lets {2} approve.").format(
						row.idx, frappe.bold(_(row.role)), ", ".join(_(role) for role in sorted(approving_roles))
					)
				)

	def validate_ready_for_review(self):
		if not self.affected_records:
			frappe.throw(_("List the affected records before the review: the approvers assess their impact."), title=_("Impact Assessment Missing"))
		if not self.risk_level:
			frappe.throw(_("Set the risk of the change before the review."), title=_("Impact Assessment Missing"))

	def validate_tasks_done(self):
		open_tasks = [row.task for row in self.tasks if not row.done]
		if open_tasks:
			frappe.throw(
				_("These implementation tasks are not done: {0}").format("; ".join(open_tasks)), title=_("Implementation Incomplete")
			)

	def before_signing(self, transition):
		if transition.medtrace_signature_meaning == "Approved":
			self.role_to_approve_as(frappe.session.user)
		elif self.status_after(transition) == "Implemented":
			self.validate_tasks_done()

	def status_after(self, transition) -> str | None:
		workflow = frappe.get_cached_doc("Workflow", get_workflow_name(self.doctype))
		return next((state.update_value for state in workflow.states if state.state == transition.next_state), None)

	# Approvals: each approver signs the workflow's Approve action (medtrace.signatures.esignature.apply_workflow);
	# the Change Request stays in review until the last approval it needs is signed.
	def collect_signature(self, signature, transition) -> bool:
		if signature.meaning != "Approved":
			return True
		self.append(
			"approvals",
			{
				"role": self.role_to_approve_as(signature.signer),
				"approver": signature.signer,
				"approver_name": signature.signer_name,
				"signed_on": signature.signed_on,
				"signature": signature.name,
			},
		)
		# The workflow allowed the approver this action; editing the rest of the request is not theirs.
		self.flags.ignore_permissions = True
		with writing_signature_evidence():
			self.save()
		pending = self.pending_approvals()
		if pending:
			frappe.msgprint(
				_("Your approval is recorded. Still needed: {0}.").format(
					", ".join(f"{count} × {_(role)}" for role, count in pending.items())
				),
				alert=True,
			)
		return not pending

	def pending_approvals(self) -> dict[str, int]:
		signed = {}
		for row in self.approvals:
			signed[row.role] = signed.get(row.role, 0) + 1
		return {
			row.role: row.approvals_needed - signed.get(row.role, 0)
			for row in self.approval_requirements
			if row.approvals_needed > signed.get(row.role, 0)
		}

	def role_to_approve_as(self, user: str) -> str:
		if any(row.approver == user for row in self.approvals):
			frappe.throw(_("You have already approved {0}; another approver must sign.").format(self.name), title=_("Already Approved"))
		pending = self.pending_approvals()
		roles = [role for role in pending if role in frappe.get_roles(user)]
		if not roles:
			frappe.throw(
				_("None of your roles is still needed to approve {0}. Waiting for: {1}.").format(
					self.name, ", ".join(f"{count} × {_(role)}" for role, count in pending.items())
				),
				frappe.PermissionError,
				title=_("Not an Approver"),
			)
		return roles[0]


def roles_that_approve() -> set[str]:
	"""Roles the Change Request workflow lets approve (its transitions into the Approved status)."""
	workflow = get_workflow_name("Change Request")
	if not workflow:
		return set()
	workflow = frappe.get_cached_doc("Workflow", workflow)
	approved_states = {state.state for state in workflow.states if state.update_value == "Approved"}
	return {row.allowed for row in workflow.transitions if row.next_state in approved_states}


@frappe.whitelist(methods=["POST"])
def assess_change_request_impact(name: str) -> int:
	change_request = frappe.get_doc("Change Request", name)
	change_request.check_permission("write")
	if change_request.docstatus != 0:
		frappe.throw(_("The impact of {0} was assessed before its approval and can no longer change.").format(name))
	added = assess_impact(change_request)
	change_request.save()
	return added
