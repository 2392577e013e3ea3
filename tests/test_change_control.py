"""Electronic signatures and change control: a Change Request through every state with the right approvers,
the refusals (wrong approver, missing signature, wrong password, locked signer, two-factor code), records
under change control, and what the signature and audit trail keep."""

import frappe
import pyotp
import pytest
from frappe.utils.password import encrypt

from factories import can_sign, committed_user, make_device_identifier, make_item, released, signed_workflow_action
from medtrace.audit.audit_chain import seal_pending, verify_audit_chain
from medtrace.quality.doctype.change_request.change_request import assess_change_request_impact
from medtrace.signatures.esignature import SignatureError, content_hash, unlock_signing
from medtrace.setup.permissions import (
	PRODUCTION_OPERATOR,
	QUALITY_APPROVER,
	QUALITY_ENGINEER,
	REGULATORY_AFFAIRS,
)
from test_roles import user_with_role  # noqa: F401 (fixture)

pytestmark = pytest.mark.requirement("MT-CC-001")


@pytest.fixture
def people(user_with_role):
	"""An engineer who raises changes, two quality approvers, a regulatory approver, an operator."""

	def person(role: str, tag: str) -> str:
		email = f"{tag}@change-control.example"
		if not frappe.db.exists("User", email):
			frappe.get_doc({"doctype": "User", "email": email, "first_name": tag.title(), "send_welcome_email": 0}).insert()
		user = frappe.get_doc("User", email)
		user.set("roles", [])
		user.add_roles(role)
		return can_sign(email)

	return frappe._dict(
		engineer=person(QUALITY_ENGINEER, "engineer"),
		approver_1=person(QUALITY_APPROVER, "approver-one"),
		approver_2=person(QUALITY_APPROVER, "approver-two"),
		regulatory=person(REGULATORY_AFFAIRS, "regulatory"),
		operator=person(PRODUCTION_OPERATOR, "operator"),
	)


def as_user(user: str):
	frappe.set_user(user)
	frappe.local.message_log = []


def failed_attempts(user: str) -> int:
	return frappe.db.count("Electronic Signature Attempt", {"user": user, "outcome": "Failed"})


def raise_change_request(engineer: str, di: str, new_brand: str):
	as_user(engineer)
	change_request = frappe.get_doc(
		{
			"doctype": "Change Request",
			"title": "New brand name on the label",
			"change_type": "Labeling",
			"description": "Marketing renamed the product line.",
			"risk_level": "Low",
			"affected_records": [{"reference_doctype": "UDI Device Identifier", "reference_name": di}],
			"proposed_changes": [
				{"reference_doctype": "UDI Device Identifier", "reference_name": di, "fieldname": "brand_name", "new_value": new_brand}
			],
			"approval_requirements": [
				{"role": QUALITY_APPROVER, "approvals_needed": 2},
				{"role": REGULATORY_AFFAIRS, "approvals_needed": 1},
			],
			"tasks": [{"task": "Reprint label artwork"}],
		}
	).insert()
	return signed_workflow_action(change_request, "Submit for Review")


@pytest.mark.requirement("MT-SIG-001", "MT-SIG-005")
def test_change_request_through_every_state_applies_the_approved_change(people):
	di = released(make_device_identifier(brand_name="OldBrand"))
	change_request = raise_change_request(people.engineer, di.name, "NewBrand")
	assert (change_request.status, change_request.docstatus) == ("Impact Review", 0)
	assert change_request.proposed_changes[0].current_value == "OldBrand"

	# Each approval is a signature; the request stays in review until the last one needed.
	as_user(people.approver_1)
	change_request = signed_workflow_action(change_request, "Approve", reason="Label text reviewed")
	assert (change_request.status, [a.approver for a in change_request.approvals]) == ("Impact Review", [people.approver_1])
	with pytest.raises(frappe.ValidationError, match="already approved"):
		signed_workflow_action(change_request, "Approve")
	as_user(people.regulatory)
	change_request = signed_workflow_action(change_request, "Approve")
	assert change_request.status == "Impact Review"
	as_user(people.approver_2)
	change_request = signed_workflow_action(change_request, "Approve")
	assert (change_request.status, change_request.docstatus) == ("Approved", 1)
	assert sorted((a.role, a.approver) for a in change_request.approvals) == sorted(
		[(QUALITY_APPROVER, people.approver_1), (REGULATORY_AFFAIRS, people.regulatory), (QUALITY_APPROVER, people.approver_2)]
	)
	assert frappe.db.get_value("UDI Device Identifier", di.name, "brand_name") == "OldBrand"

	as_user(people.engineer)
	with pytest.raises(frappe.ValidationError, match="Reprint label artwork"):
		signed_workflow_action(change_request, "Mark Implemented")
	change_request.reload()
	change_request.tasks[0].done = 1
	change_request.save()
	change_request = signed_workflow_action(change_request, "Mark Implemented")
	assert change_request.status == "Implemented"
	assert frappe.db.get_value("UDI Device Identifier", di.name, "brand_name") == "NewBrand"
	assert (change_request.proposed_changes[0].value_before, bool(change_request.proposed_changes[0].applied_on)) == ("OldBrand", True)

	as_user(people.approver_1)
	change_request = signed_workflow_action(change_request, "Verify")
	change_request = signed_workflow_action(change_request, "Close")
	assert change_request.status == "Closed"

	signatures = frappe.get_all(
		"Electronic Signature",
		filters={"reference_doctype": "Change Request", "reference_name": change_request.name},
		fields=["meaning", "signer", "signer_name", "reason"],
		order_by="creation asc",
	)
	assert [(s.meaning, s.signer) for s in signatures] == [
		("Approved", people.approver_1), ("Approved", people.regulatory), ("Approved", people.approver_2),
		("Implemented", people.engineer), ("Verified", people.approver_1), ("Closed", people.approver_1),
	]
	assert (signatures[0].signer_name, signatures[0].reason) == ("Approver-One", "Label text reviewed")
	printed = frappe.get_print("Change Request", change_request.name, "Change Request")
	for signature in signatures:
		assert f"{signature.meaning}</b> — {signature.signer_name} ({signature.signer})" in printed

	# The audit trail shows the change with the request it was made under, and the chain holds.
	from medtrace.audit.report.audit_trail.audit_trail import execute

	frappe.set_user("Administrator")
	seal_pending()
	today = frappe.utils.today()
	_columns, rows = execute({"from_date": today, "to_date": today, "ref_doctype": "UDI Device Identifier", "ref_name": di.name})
	brand = next(row for row in rows if row.get("field") == "Brand / Trade Name" and row["new_value"] == "NewBrand")
	assert (brand["old_value"], brand["change_request"], brand["user"]) == ("OldBrand", change_request.name, people.engineer)
	assert verify_audit_chain(alert=False)["intact"]


@pytest.mark.requirement("MT-SIG-001", "MT-SIG-003")
def test_refusals_wrong_approver_missing_signature_wrong_password_and_lockout(people):
	di = released(make_device_identifier())
	change_request = raise_change_request(people.engineer, di.name, "Brand X")

	as_user(people.operator)
	with pytest.raises(frappe.PermissionError, match="the action belongs to"):
		signed_workflow_action(change_request, "Approve")
	as_user(people.engineer)
	with pytest.raises(frappe.PermissionError, match="the action belongs to"):
		signed_workflow_action(change_request, "Approve")

	as_user(people.approver_1)
	with pytest.raises(SignatureError, match="Re-enter your password"):
		signed_workflow_action(change_request, "Approve", password="")
	assert failed_attempts(people.approver_1) == 0
	with pytest.raises(SignatureError, match="Wrong password: the signature was not recorded. 2 more failed attempts"):
		signed_workflow_action(change_request, "Approve", password="guess-1")
	with pytest.raises(SignatureError, match="1 more failed attempts"):
		signed_workflow_action(change_request, "Approve", password="guess-2")
	with pytest.raises(SignatureError, match="Signing is now locked"):
		signed_workflow_action(change_request, "Approve", password="guess-3")
	assert failed_attempts(people.approver_1) == 3
	# Locked: even the right password is refused, and nothing was signed.
	with pytest.raises(SignatureError, match="locked for"):
		signed_workflow_action(change_request, "Approve")
	assert not frappe.db.exists("Electronic Signature", {"reference_name": change_request.name, "meaning": "Approved"})
	assert frappe.get_doc("Change Request", change_request.name).status == "Impact Review"

	with pytest.raises(frappe.PermissionError):
		unlock_signing(people.approver_1)
	frappe.set_user("Administrator")
	unlock_signing(people.approver_1)
	as_user(people.approver_1)
	change_request = signed_workflow_action(change_request, "Approve")
	assert [a.approver for a in change_request.approvals] == [people.approver_1]


@pytest.mark.requirement("MT-SIG-001")
def test_two_factor_code_is_asked_for_when_frappe_requires_it(people):
	frappe.db.set_single_value("System Settings", {"enable_two_factor_auth": 1, "two_factor_method": "OTP App"})
	frappe.db.set_value("Role", QUALITY_APPROVER, "two_factor_auth", 1)
	secret = pyotp.random_base32()
	frappe.db.set_default(f"{people.approver_1}_otpsecret", encrypt(secret))

	di = released(make_device_identifier())
	change_request = raise_change_request(people.engineer, di.name, "Brand Y")
	as_user(people.approver_1)
	with pytest.raises(SignatureError, match="authenticator app"):
		signed_workflow_action(change_request, "Approve")
	with pytest.raises(SignatureError, match="Wrong authenticator code"):
		signed_workflow_action(change_request, "Approve", otp="000000" if pyotp.TOTP(secret).now() != "000000" else "111111")
	assert failed_attempts(people.approver_1) == 1
	change_request = signed_workflow_action(change_request, "Approve", otp=pyotp.TOTP(secret).now())
	signature = frappe.get_last_doc("Electronic Signature", filters={"reference_name": change_request.name})
	assert signature.authentication == "Password and authenticator code"


@pytest.mark.requirement("MT-CC-002")
def test_records_under_change_control_change_only_through_an_approved_change_request(people):
	di = released(make_device_identifier(brand_name="Filed Brand"))
	di.brand_name = "Quietly Changed"
	with pytest.raises(frappe.ValidationError, match="under change control: Brand / Trade Name changes only through"):
		di.save()
	di.reload()
	di.status = "Obsolete"  # its lifecycle is not a regulated attribute
	di.save()

	# A signed transition cannot be made by writing the state.
	pending = make_device_identifier()
	pending = signed_workflow_action(pending, "Submit for Approval")
	pending.status = "Released"
	with pytest.raises(SignatureError, match="is an electronic signature"):
		pending.save()

	# A change request's changes must target records it lists, and real fields.
	as_user(people.engineer)
	other = make_device_identifier()
	change_request = frappe.get_doc(
		{
			"doctype": "Change Request", "title": "Wrong target", "change_type": "Labeling", "description": "x",
			"affected_records": [{"reference_doctype": "UDI Device Identifier", "reference_name": di.name}],
			"proposed_changes": [
				{"reference_doctype": "UDI Device Identifier", "reference_name": other.name, "fieldname": "brand_name", "new_value": "Y"}
			],
		}
	)
	with pytest.raises(frappe.ValidationError, match="is not among the affected records"):
		change_request.insert()
	change_request.proposed_changes[0].reference_name = di.name
	change_request.proposed_changes[0].fieldname = "no_such_field"
	with pytest.raises(frappe.ValidationError, match="has no field"):
		change_request.insert()
	change_request.proposed_changes = []
	change_request.risk_level = None
	change_request.insert()
	with pytest.raises(frappe.ValidationError, match="Set the risk"):
		signed_workflow_action(change_request, "Submit for Review")
	change_request.reload()
	change_request.append("approval_requirements", {"role": PRODUCTION_OPERATOR, "approvals_needed": 1})
	with pytest.raises(frappe.ValidationError, match="cannot approve Change Requests"):
		change_request.save()


@pytest.mark.requirement("MT-CC-003")
def test_impact_assessment_adds_what_depends_on_the_affected_item(people):
	item = make_item(has_batch_no=1, create_new_batch=1)
	di = make_device_identifier(item=item.name)
	frappe.get_doc({"doctype": "Device Master Record", "item": item.name, "revision": "A"}).insert()
	as_user(people.engineer)
	change_request = frappe.get_doc(
		{"doctype": "Change Request", "title": "Material change", "change_type": "Product", "description": "x",
		 "affected_records": [{"reference_doctype": "Item", "reference_name": item.name}]}
	).insert()
	assert assess_change_request_impact(change_request.name) == 2
	change_request.reload()
	assert {(row.reference_doctype, row.reference_name, row.found_by) for row in change_request.affected_records} == {
		("Item", item.name, "Requester"),
		("UDI Device Identifier", di.name, "Impact Assessment"),
		("Device Master Record", frappe.db.get_value("Device Master Record", {"item": item.name}), "Impact Assessment"),
	}
	assert assess_change_request_impact(change_request.name) == 0


@pytest.mark.requirement("MT-SIG-002")
def test_a_signature_is_immutable_hashes_what_was_signed_and_is_chained(people):
	di = released(make_device_identifier())
	signature = frappe.get_last_doc("Electronic Signature", filters={"reference_name": di.name})
	assert (signature.meaning, signature.signer, signature.workflow_state) == ("Approved", "Administrator", "Released")
	as_signed = frappe.get_doc("UDI Device Identifier", di.name)
	as_signed.status = "Pending Approval"  # what the approver saw: the document before the transition
	assert signature.content_hash == content_hash(as_signed)
	as_signed.brand_name = "Another Brand"
	assert signature.content_hash != content_hash(as_signed)

	signature.reason = "changed afterwards"
	with pytest.raises(frappe.ValidationError, match="cannot be changed"):
		signature.save()
	with pytest.raises(frappe.ValidationError, match="cannot be deleted"):
		signature.delete()
	seal_pending()
	assert frappe.db.exists("Audit Chain Entry", {"source_doctype": "Electronic Signature", "source_name": signature.name, "event": "Signed"})
	frappe.db.set_value("Electronic Signature", signature.name, "signer_name", "Someone Else", update_modified=False)
	result = verify_audit_chain(alert=False)
	assert not result["intact"] and signature.name in result["reason"]


@pytest.mark.requirement("MT-SIG-003")
def test_failed_attempt_over_http_outlives_the_rolled_back_request(web_server):
	"""A refused signature request is rolled back; the failed attempt it records must stay."""
	import requests

	email = can_sign(committed_user("http-signer", [QUALITY_APPROVER]))
	di = make_device_identifier()
	di = signed_workflow_action(di, "Submit for Approval")
	frappe.db.commit()

	session = requests.Session()
	login = session.post(f"{web_server}/api/method/login", data={"usr": email, "pwd": "Sign-Here-2026!"})
	assert login.status_code == 200
	response = session.post(
		f"{web_server}/api/method/frappe.model.workflow.apply_workflow",
		data={"doc": di.as_json(), "action": "Approve", "password": "not-my-password"},
		headers={"Accept": "application/json"},
	)
	assert response.status_code == 417
	assert "Wrong password" in response.text
	frappe.db.rollback()
	assert failed_attempts(email) == 1
	assert frappe.db.get_value("UDI Device Identifier", di.name, "status") == "Pending Approval"


@pytest.mark.requirement("MT-CC-002")
def test_device_master_record_in_use_changes_only_through_a_change_request(people):
	item = make_item(has_batch_no=1)
	dmr = frappe.get_doc(
		{"doctype": "Device Master Record", "item": item.name, "revision": "A",
		 "requirements": [{"requirement_type": "Process Parameter", "parameter": "Cure Time"}]}
	).insert()
	dmr.revision = "B"
	dmr.save()  # not followed by any DHR yet: still a draft of the process
	dhr = frappe.get_doc({"doctype": "Device History Record", "item": item.name, "device_master_record": dmr.name, "status": "Open"})
	dhr.name = f"DHR-CC-{frappe.generate_hash(length=6)}"
	dhr.db_insert()

	dmr.reload()
	dmr.requirements[0].parameter = "Cure Temperature"
	with pytest.raises(frappe.ValidationError, match="under change control: Requirements changes only through"):
		dmr.save()

	# A Change Request may target the requirement row; its current value is read from the row.
	as_user(people.engineer)
	change_request = frappe.get_doc(
		{"doctype": "Change Request", "title": "Cure by temperature", "change_type": "Process", "description": "x", "risk_level": "Medium",
		 "affected_records": [{"reference_doctype": "Device Master Record", "reference_name": dmr.name}],
		 "proposed_changes": [{"reference_doctype": "DMR Requirement", "reference_name": dmr.requirements[0].name,
		                       "fieldname": "parameter", "new_value": "Cure Temperature"}]}
	).insert()
	assert change_request.proposed_changes[0].current_value == "Cure Time"
