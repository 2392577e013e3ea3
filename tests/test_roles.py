"""The five MedTrace roles exist and carry a first, least-privilege set of permissions."""

import frappe
import pytest

from medtrace.setup.permissions import (
	MEDTRACE_ROLES,
	PRODUCTION_OPERATOR,
	QUALITY_APPROVER,
	QUALITY_ENGINEER,
	REGULATORY_AFFAIRS,
	WAREHOUSE_OPERATOR,
)

pytestmark = pytest.mark.requirement("MT-PRM-001")


@pytest.fixture
def user_with_role():
	def make(role: str) -> str:
		# Users are set up by an administrator, whoever the test is acting as.
		acting_as = frappe.session.user
		frappe.set_user("Administrator")
		try:
			return make_as_administrator(role)
		finally:
			frappe.set_user(acting_as)

	def make_as_administrator(role: str) -> str:
		email = f"{frappe.scrub(role)}@medtrace-test.example"
		if not frappe.db.exists("User", email):
			user = frappe.get_doc(
				{"doctype": "User", "email": email, "first_name": role, "send_welcome_email": 0}
			).insert(ignore_permissions=True)
		else:
			user = frappe.get_doc("User", email)
		user.set("roles", [])
		user.add_roles(role)
		return email

	return make


def test_all_roles_installed_with_desk_access():
	for role in MEDTRACE_ROLES:
		assert frappe.db.get_value("Role", role, "desk_access") == 1, role


@pytest.mark.parametrize(
	("role", "doctype", "ptype", "allowed"),
	[
		(REGULATORY_AFFAIRS, "UDI Device Identifier", "create", True),
		(QUALITY_ENGINEER, "UDI Device Identifier", "create", True),
		(QUALITY_APPROVER, "UDI Device Identifier", "create", False),
		(QUALITY_APPROVER, "UDI Device Identifier", "read", True),
		(PRODUCTION_OPERATOR, "UDI Device Identifier", "write", False),
		(PRODUCTION_OPERATOR, "UDI Device Identifier", "read", True),
		(WAREHOUSE_OPERATOR, "Batch", "read", True),
		(WAREHOUSE_OPERATOR, "Batch", "write", False),
		(QUALITY_ENGINEER, "Batch", "write", True),
		(QUALITY_ENGINEER, "Quality Inspection", "submit", True),
		(PRODUCTION_OPERATOR, "Quality Inspection", "submit", False),
		(PRODUCTION_OPERATOR, "Work Order", "read", True),
		(WAREHOUSE_OPERATOR, "Work Order", "read", False),
		(WAREHOUSE_OPERATOR, "Delivery Note", "read", True),
		(REGULATORY_AFFAIRS, "Delivery Note", "write", False),
	],
)
def test_role_permissions(user_with_role, role, doctype, ptype, allowed):
	user = user_with_role(role)
	assert frappe.has_permission(doctype, ptype, user=user) is allowed


@pytest.mark.requirement("MT-UDI-003")
def test_approver_cannot_approve_own_submission(user_with_role):
	"""The shipped workflow forbids self-approval: the author of a DI cannot release it."""
	from factories import can_sign, make_device_identifier, signed_workflow_action

	author = can_sign(user_with_role(REGULATORY_AFFAIRS))
	frappe.get_doc("User", author).add_roles(QUALITY_APPROVER)
	approver = can_sign(user_with_role(QUALITY_APPROVER))
	frappe.set_user(author)
	di = make_device_identifier()
	di = signed_workflow_action(di, "Submit for Approval")
	with pytest.raises(frappe.PermissionError, match="another person must"):
		signed_workflow_action(di, "Approve")

	frappe.set_user(approver)
	di = signed_workflow_action(frappe.get_doc("UDI Device Identifier", di.name), "Approve")
	assert di.status == "Released"


def test_users_a_run_committed_are_disabled_by_a_later_run_but_not_by_one_nested_in_it():
	"""The suite's own bound on what it commits: otherwise every run adds Quality Approvers, and beyond 100
	Frappe no longer queues mail to a role at once (test_checkpoint_is_emailed_to_the_quality_approvers)."""
	from factories import committed_user, disable_committed_users_of_earlier_runs

	earlier, current = committed_user("earlier-run", [QUALITY_APPROVER]), committed_user("this-run", [QUALITY_APPROVER])
	frappe.db.set_value("User", earlier, "creation", frappe.utils.add_to_date(frappe.utils.now_datetime(), hours=-2), update_modified=False)
	disable_committed_users_of_earlier_runs()
	assert (frappe.db.get_value("User", earlier, "enabled"), frappe.db.get_value("User", current, "enabled")) == (0, 1)
