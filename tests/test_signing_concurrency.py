"""Signing under concurrency, over real HTTP (threads, each with its own connection): parallel wrong
passwords are counted one after the other up to the lockout and no further (finding 4); a right password
among them cannot sign once the lockout is reached; two approvers releasing one DHR at the same moment give
one signature and one Lot Released event (finding 5)."""

import json
import threading

import frappe
import requests
from frappe.core.doctype.user.user import generate_keys

from factories import SIGNING_PASSWORD, can_sign, committed_user, make_device_identifier, signed_workflow_action
from medtrace.signatures.esignature import lockout_attempts, signing_locked
from medtrace.setup.permissions import QUALITY_APPROVER
from test_dhr import complete_lot, production  # noqa: F401 (fixture)

import pytest

pytestmark = pytest.mark.requirement("MT-SIG-006")

PARALLEL = 12


def signer(tag: str) -> frappe._dict:
	"""A Quality Approver of their own, committed, with an API key."""
	email = can_sign(committed_user(tag, [QUALITY_APPROVER]))
	secret = generate_keys(email)["api_secret"]
	return frappe._dict(user=email, token=f"token {frappe.db.get_value('User', email, 'api_key')}:{secret}")


def in_parallel(calls) -> list:
	"""Run the calls at the same moment, one thread each; their results in order."""
	barrier, results = threading.Barrier(len(calls)), [None] * len(calls)

	def run(index, call):
		barrier.wait(timeout=60)
		results[index] = call()

	threads = [threading.Thread(target=run, args=(index, call)) for index, call in enumerate(calls)]
	for thread in threads:
		thread.start()
	for thread in threads:
		thread.join(timeout=180)
	return results


def post(web_server: str, token: str, method: str, data: dict) -> requests.Response:
	return requests.post(
		f"{web_server}/api/method/{method}", data=data, headers={"Authorization": token, "Accept": "application/json"}, timeout=120
	)


def pending_identifiers(count: int) -> list[str]:
	return [signed_workflow_action(make_device_identifier(), "Submit for Approval").name for _index in range(count)]


def approve(web_server: str, token: str, di: str, password: str):
	doc = json.dumps({"doctype": "UDI Device Identifier", "name": di})
	return lambda: post(web_server, token, "frappe.model.workflow.apply_workflow", {"doc": doc, "action": "Approve", "password": password})


def failed_attempts(user: str) -> list:
	return frappe.get_all("Electronic Signature Attempt", filters={"user": user, "outcome": "Failed"}, pluck="creation", order_by="creation")


@pytest.mark.requirement("MT-SIG-003")
def test_parallel_wrong_passwords_are_counted_up_to_the_lockout(web_server):
	approver = signer("parallel-wrong")
	identifiers = pending_identifiers(PARALLEL)
	frappe.db.commit()

	responses = in_parallel([approve(web_server, approver.token, di, "not-the-password") for di in identifiers])

	frappe.db.rollback()
	assert sorted({response.status_code for response in responses}) == [417], [r.text[:200] for r in responses]
	assert len(failed_attempts(approver.user)) == lockout_attempts() == 3
	assert signing_locked(approver.user)
	locked = [response for response in responses if "locked for" in response.text]
	assert len(locked) == PARALLEL - 3
	assert not frappe.db.exists("Electronic Signature", {"signer": approver.user})
	assert set(frappe.get_all("UDI Device Identifier", filters={"name": ("in", identifiers)}, pluck="status")) == {"Pending Approval"}


@pytest.mark.requirement("MT-SIG-003")
def test_a_right_password_among_parallel_wrong_ones_cannot_sign_after_the_lockout(web_server):
	approver = signer("parallel-right")
	identifiers = pending_identifiers(PARALLEL)
	frappe.db.commit()

	calls = [approve(web_server, approver.token, di, "not-the-password") for di in identifiers[:-1]]
	calls.insert(PARALLEL // 2, approve(web_server, approver.token, identifiers[-1], SIGNING_PASSWORD))
	responses = in_parallel(calls)

	frappe.db.rollback()
	signatures = frappe.get_all("Electronic Signature", filters={"signer": approver.user}, pluck="creation")
	failures = failed_attempts(approver.user)
	assert len(signatures) <= 1
	if signatures:
		# It came before the lockout: fewer than three failures preceded it, and three more locked the user.
		before = [failure for failure in failures if failure < signatures[0]]
		assert len(before) < 3
		assert len(failures) == len(before) + 3
		assert frappe.db.get_value("UDI Device Identifier", identifiers[-1], "status") == "Released"
	else:
		assert len(failures) == 3
		assert "locked for" in responses[PARALLEL // 2].text
	assert signing_locked(approver.user)
	assert all(response.status_code in (200, 417) for response in responses)


@pytest.mark.requirement("MT-DHR-002")
def test_two_parallel_releases_of_one_dhr_give_one_signature_and_one_event(production, web_server):  # noqa: F811
	lot_dhr, _leak = complete_lot(production)
	approvers = [signer("release-one"), signer("release-two")]
	frappe.db.commit()

	responses = in_parallel(
		[
			lambda approver=approver: post(
				web_server, approver.token, "medtrace.quality.dhr.release_device_history_record",
				{"name": lot_dhr.name, "password": SIGNING_PASSWORD, "reason": "Parallel release"},
			)
			for approver in approvers
		]
	)

	frappe.db.rollback()
	assert sorted(response.status_code for response in responses) == [200, 417], [r.text[:300] for r in responses]
	refused = next(response for response in responses if response.status_code == 417)
	assert "already released" in refused.text
	signatures = frappe.get_all("Electronic Signature", filters={"reference_name": lot_dhr.name, "meaning": "Released"}, pluck="signer")
	assert len(signatures) == 1
	assert frappe.db.count("Traceability Event", {"event": "Lot Released", "reference_name": lot_dhr.name}) == 1
	assert frappe.db.get_value("Device History Record", lot_dhr.name, ["status", "released_by"]) == ("Released", signatures[0])


def test_two_parallel_approvals_of_one_change_request_lose_nothing(web_server):
	"""Two approvers sign one Change Request at the same moment: each signature recorded is an approval on
	the request; a signer who waited for the other and read the request before it changed is asked to reload."""
	approvers = [signer("approve-one"), signer("approve-two")]
	change_request = frappe.get_doc(
		{"doctype": "Change Request", "title": "Parallel approvals", "change_type": "Labeling", "description": "Concurrency",
		 "risk_level": "Low", "approval_requirements": [{"role": QUALITY_APPROVER, "approvals_needed": 2}],
		 "affected_records": [{"reference_doctype": "UDI Device Identifier", "reference_name": make_device_identifier().name}]}
	).insert()
	change_request = signed_workflow_action(change_request, "Submit for Review")
	frappe.db.commit()
	doc = json.dumps({"doctype": "Change Request", "name": change_request.name})

	responses = in_parallel(
		[
			lambda approver=approver: post(
				web_server, approver.token, "frappe.model.workflow.apply_workflow", {"doc": doc, "action": "Approve", "password": SIGNING_PASSWORD}
			)
			for approver in approvers
		]
	)

	frappe.db.rollback()
	signed = [approver.user for approver, response in zip(approvers, responses) if response.status_code == 200]
	assert signed, [response.text[:300] for response in responses]
	for response in responses:
		assert response.status_code == 200 or "reload it and sign again" in response.text, response.text[:300]
	approvals = frappe.get_all("Change Request Approval", filters={"parent": change_request.name}, pluck="approver")
	signatures = frappe.get_all("Electronic Signature", filters={"reference_name": change_request.name, "meaning": "Approved"}, pluck="signer")
	assert sorted(approvals) == sorted(signatures) == sorted(signed)
	status = frappe.db.get_value("Change Request", change_request.name, "status")
	assert status == ("Approved" if len(signed) == 2 else "Impact Review")
