"""Separation of duties in workflows: the shipped rules, a rule configured in the Desk, the refusal in the
signing path before any password is asked for, and what the form shows the user."""

import frappe
import pytest

from factories import can_sign, make_device_identifier, signed_workflow_action
from medtrace.signatures.separation_of_duties import get_duty_restrictions
from medtrace.setup.fixtures import read_fixture
from medtrace.setup.permissions import QUALITY_APPROVER, QUALITY_ENGINEER, REGULATORY_AFFAIRS
from test_change_control import as_user, people, raise_change_request  # noqa: F401 (fixture)
from test_roles import user_with_role  # noqa: F401 (fixture)

pytestmark = pytest.mark.requirement("MT-CC-004")


@pytest.fixture
def engineer_and_approver(people):  # noqa: F811
	"""A quality engineer who is also a quality approver: the person separation of duties is about."""
	email = "engineer-approver@change-control.example"
	if not frappe.db.exists("User", email):
		frappe.get_doc({"doctype": "User", "email": email, "first_name": "Both Hats", "send_welcome_email": 0}).insert()
	user = frappe.get_doc("User", email)
	user.set("roles", [])
	user.add_roles(QUALITY_ENGINEER, QUALITY_APPROVER)
	return can_sign(email)


def approved_change_request(people, raised_by: str):  # noqa: F811
	as_user("Administrator")
	change_request = raise_change_request(raised_by, make_device_identifier().name, "Renamed")
	frappe.db.set_value("Change Request Task", change_request.tasks[0].name, "done", 1)
	for approver in (people.approver_1, people.regulatory, people.approver_2):
		as_user(approver)
		change_request = signed_workflow_action(change_request, "Approve")
	assert change_request.workflow_state == "Approved"
	return change_request


def test_shipped_rules_are_installed_and_name_their_workflows_actions():
	shipped = read_fixture("separation_of_duties_rule.json")
	assert shipped
	for rule in shipped:
		installed = frappe.get_doc("Separation of Duties Rule", rule["name"])
		installed.validate()  # the workflow has both actions
		assert installed.enabled


def test_implementer_may_not_verify(people, engineer_and_approver):  # noqa: F811
	change_request = approved_change_request(people, people.engineer)
	as_user(engineer_and_approver)
	change_request = signed_workflow_action(change_request, "Mark Implemented")
	assert get_duty_restrictions("Change Request", change_request.name) == [
		{
			"action": "Verify",
			"message": f"Both Hats did Mark Implemented on Change Request {change_request.name}, so another person must Verify it. "
			"Verification of a change is independent of its implementation.",
		}
	]
	attempts = frappe.db.count("Electronic Signature Attempt", {"user": engineer_and_approver})
	with pytest.raises(frappe.PermissionError, match="another person must Verify it"):
		signed_workflow_action(change_request, "Verify", password="not even checked")
	assert frappe.db.count("Electronic Signature Attempt", {"user": engineer_and_approver}) == attempts
	assert frappe.db.get_value("Change Request", change_request.name, "workflow_state") == "Implemented"

	as_user(people.approver_1)
	assert get_duty_restrictions("Change Request", change_request.name) == []
	assert signed_workflow_action(change_request, "Verify").workflow_state == "Verified"


def test_requester_may_not_approve_their_own_request(people, engineer_and_approver):  # noqa: F811
	change_request = raise_change_request(engineer_and_approver, make_device_identifier().name, "Renamed")
	as_user(engineer_and_approver)
	assert [r["action"] for r in get_duty_restrictions("Change Request", change_request.name)] == ["Approve"]
	with pytest.raises(frappe.PermissionError):
		signed_workflow_action(change_request, "Approve")


def test_a_rule_configured_in_the_desk_is_enforced(people):  # noqa: F811
	"""A quality approver adds a rule of their own: who verified a change may not also close it."""
	as_user(people.approver_1)
	frappe.get_doc(
		{
			"doctype": "Separation of Duties Rule",
			"rule_name": "Change Request: the verifier does not close",
			"workflow": "Change Request",
			"action": "Close",
			"earlier_act": "Did the Workflow Action",
			"earlier_action": "Verify",
		}
	).insert()
	change_request = approved_change_request(people, people.engineer)
	as_user(people.engineer)
	change_request = signed_workflow_action(change_request, "Mark Implemented")
	as_user(people.approver_1)
	change_request = signed_workflow_action(change_request, "Verify")
	with pytest.raises(frappe.PermissionError, match="did Verify on Change Request"):
		signed_workflow_action(change_request, "Close")
	as_user(people.approver_2)
	assert signed_workflow_action(change_request, "Close").workflow_state == "Closed"


@pytest.mark.parametrize(
	("values", "message"),
	[
		({"action": "Publish", "earlier_act": "Created the Document"}, "has no action .*Publish"),
		({"action": "Verify", "earlier_act": "Did the Workflow Action", "earlier_action": "Sign Off"}, "has no action .*Sign Off"),
		({"action": "Verify", "earlier_act": "Did the Workflow Action"}, "Earlier Workflow Action"),
	],
)
def test_a_rule_naming_no_action_of_its_workflow_is_refused(values, message):
	rule = frappe.get_doc({"doctype": "Separation of Duties Rule", "rule_name": "Bad rule", "workflow": "Change Request", **values})
	with pytest.raises(frappe.ValidationError, match=message):
		rule.insert()
	assert not frappe.db.exists("Separation of Duties Rule", "Bad rule")


@pytest.mark.requirement("MT-UDI-003")
def test_the_author_of_a_udi_di_may_not_approve_it(user_with_role_pair):
	"""Regulatory affairs enters and submits a DI; a quality approver approves it — not the same person."""
	author = user_with_role_pair
	as_user(author)
	di = signed_workflow_action(make_device_identifier(), "Submit for Approval")
	assert [r["action"] for r in get_duty_restrictions("UDI Device Identifier", di.name)] == ["Approve"]
	with pytest.raises(frappe.PermissionError):
		signed_workflow_action(di, "Approve")


@pytest.fixture
def user_with_role_pair():
	email = "di-author-approver@medtrace-test.example"
	if not frappe.db.exists("User", email):
		frappe.get_doc({"doctype": "User", "email": email, "first_name": "Author Approver", "send_welcome_email": 0}).insert()
	user = frappe.get_doc("User", email)
	user.set("roles", [])
	user.add_roles(REGULATORY_AFFAIRS, QUALITY_APPROVER)
	return can_sign(email)
