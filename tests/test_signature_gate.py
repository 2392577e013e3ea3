"""The signature gate (medtrace.signatures.signature_gate): for every workflow whose transitions require a
signature — the site's own, and one this module makes on a doctype of its own — every write path, as every
role, leaves the signed states unreached; only the signing call reaches them. Evidence of signatures
(Electronic Signatures and Attempts, a DHR's release fields, a Change Request's approvals) is written by
signing alone: not by REST, not by Administrator."""

import json

import frappe
import frappe.client
import pytest
import requests
from frappe.core.doctype.data_import.data_import import start_import
from frappe.core.doctype.user.user import generate_keys
from frappe.custom.doctype.property_setter.property_setter import make_property_setter
from frappe.model import table_fields

from factories import SIGNING_PASSWORD, can_sign, make_device_identifier, released, signed_workflow_action
from medtrace.quality.dhr import release_device_history_record
from medtrace.signatures.signature_gate import SignatureError, SignatureEvidenceError, signature_evidence, signed_workflow
from medtrace.setup.permissions import MEDTRACE_ROLES, QUALITY_APPROVER, QUALITY_ENGINEER, REGULATORY_AFFAIRS
from test_dhr import complete_lot, production  # noqa: F401 (fixture)
from test_recall import active_holds, built_plant, make_recall, plant  # noqa: F401 (fixtures)
from test_roles import user_with_role  # noqa: F401 (fixture)

pytestmark = pytest.mark.requirement("MT-SIG-004")

TEST_DOCTYPE = "MedTrace Gate Test"
TEST_WORKFLOW = "MedTrace Gate Test Approval"
ROLES = (*MEDTRACE_ROLES, "System Manager")
GATE_ERRORS = (SignatureError, SignatureEvidenceError)


@pytest.fixture(scope="module")
def test_workflow(test_site):
	"""A submittable doctype of the test's own whose workflow signs its approval (a submit) and its withdrawal
	(a cancel); kept on the test site, as creating a doctype commits."""
	frappe.set_user("Administrator")
	for state in ("Draft", "Reviewed", "Approved", "Withdrawn"):
		if not frappe.db.exists("Workflow State", state):
			frappe.get_doc({"doctype": "Workflow State", "workflow_state_name": state}).insert()
	for action in ("Review", "Approve", "Withdraw"):
		if not frappe.db.exists("Workflow Action Master", action):
			frappe.get_doc({"doctype": "Workflow Action Master", "workflow_action_name": action}).insert()
	if not frappe.db.exists("DocType", TEST_DOCTYPE):
		frappe.get_doc(
			{
				"doctype": "DocType", "name": TEST_DOCTYPE, "module": "Custom", "custom": 1, "is_submittable": 1,
				"track_changes": 1, "autoname": "hash",
				"fields": [
					{"fieldname": "title", "fieldtype": "Data", "label": "Title"},
					{"fieldname": "status", "fieldtype": "Select", "label": "Status", "options": "Draft\nReviewed\nApproved\nWithdrawn",
					 "default": "Draft", "read_only": 1, "allow_on_submit": 1},
					{"fieldname": "gate_state", "fieldtype": "Link", "label": "Gate State", "options": "Workflow State",
					 "read_only": 1, "allow_on_submit": 1},
					{"fieldname": "amended_from", "fieldtype": "Link", "label": "Amended From", "options": TEST_DOCTYPE,
					 "read_only": 1, "no_copy": 1},
				],
				"permissions": [
					{"role": role, "read": 1, "write": 1, "create": 1, "submit": 1, "cancel": 1}
					for role in (QUALITY_APPROVER, QUALITY_ENGINEER, REGULATORY_AFFAIRS, "System Manager")
				],
			}
		).insert()
	if not frappe.db.exists("Workflow", TEST_WORKFLOW):
		frappe.get_doc(
			{
				"doctype": "Workflow", "workflow_name": TEST_WORKFLOW, "document_type": TEST_DOCTYPE, "workflow_state_field": "gate_state",
				"is_active": 1, "send_email_alert": 0,
				"states": [
					{"state": "Draft", "doc_status": "0", "update_field": "status", "update_value": "Draft", "allow_edit": QUALITY_ENGINEER},
					{"state": "Reviewed", "doc_status": "0", "update_field": "status", "update_value": "Reviewed", "allow_edit": QUALITY_APPROVER},
					{"state": "Approved", "doc_status": "1", "update_field": "status", "update_value": "Approved", "allow_edit": QUALITY_APPROVER},
					{"state": "Withdrawn", "doc_status": "2", "update_field": "status", "update_value": "Withdrawn", "allow_edit": QUALITY_APPROVER},
				],
				"transitions": [
					{"state": "Draft", "action": "Review", "next_state": "Reviewed", "allowed": QUALITY_ENGINEER, "allow_self_approval": 1},
					{"state": "Reviewed", "action": "Approve", "next_state": "Approved", "allowed": QUALITY_APPROVER, "allow_self_approval": 1,
					 "medtrace_signature_meaning": "Approved"},
					{"state": "Approved", "action": "Withdraw", "next_state": "Withdrawn", "allowed": QUALITY_APPROVER, "allow_self_approval": 1,
					 "medtrace_signature_meaning": "Rejected"},
				],
			}
		).insert()
	frappe.db.commit()
	return TEST_DOCTYPE


@pytest.fixture(scope="module")
def role_users(test_site):
	"""One committed user per role (and Administrator), each with an API key for HTTP and the signing password."""
	frappe.set_user("Administrator")
	users = {}
	for role in ROLES:
		email = f"gate-{frappe.scrub(role)}@signature-gate.example"
		if not frappe.db.exists("User", email):
			frappe.get_doc({"doctype": "User", "email": email, "first_name": f"Gate {role}", "send_welcome_email": 0}).insert()
		user = frappe.get_doc("User", email)
		user.set("roles", [])
		user.add_roles(role)
		can_sign(email)
		users[role] = email
	users["Administrator"] = "Administrator"
	tokens = {}
	for role, user in users.items():
		secret = generate_keys(user)["api_secret"]
		tokens[role] = f"token {frappe.db.get_value('User', user, 'api_key')}:{secret}"
	frappe.db.commit()
	return frappe._dict(users=users, tokens=tokens)


def signed_cases() -> list[frappe._dict]:
	"""Every signed transition of every active workflow on the site: doctype, from, to, action and the roles
	the transition allows."""
	cases = {}
	for doctype in frappe.get_all("Workflow", filters={"is_active": 1}, pluck="document_type"):
		workflow = signed_workflow(doctype)
		if not workflow:
			continue
		for row in frappe.get_doc("Workflow", workflow.name).transitions:
			if row.get("medtrace_signature_meaning"):
				case = cases.setdefault(
					(doctype, row.state, row.next_state),
					frappe._dict(doctype=doctype, workflow=workflow, source=row.state, target=row.next_state, action=row.action, roles=set()),
				)
				case.roles.add(row.allowed)
	return list(cases.values())


def document_in_state(workflow, doctype: str, state: str) -> str:
	"""A document put into the state as trusted server code may (db_insert): nothing else about it is valid, so
	any refusal other than the gate's shows."""
	row = workflow.states[state]
	doc = frappe.new_doc(doctype)
	doc.set(workflow.state_field, state)
	if row.update_field:
		doc.set(row.update_field, row.update_value)
	doc.docstatus = int(row.doc_status or 0)
	doc.name = f"GATE-{frappe.generate_hash(length=10)}"
	doc.owner = doc.modified_by = "Administrator"
	doc.creation = doc.modified = frappe.utils.now()
	doc.db_insert()
	return doc.name


def target_values(case) -> dict:
	row = case.workflow.states[case.target]
	values = {case.workflow.state_field: case.target}
	if row.update_field:
		values[row.update_field] = row.update_value
	return values


def write_paths(case, name: str):
	"""(path, permission it needs, call) for each way a client can write the document toward the target."""
	doctype, values = case.doctype, target_values(case)
	source_docstatus = int(case.workflow.states[case.source].doc_status or 0)
	target_docstatus = int(case.workflow.states[case.target].doc_status or 0)
	save_ptype = "submit" if source_docstatus == 1 else "write"

	def save(changes):
		doc = frappe.get_doc(doctype, name)
		doc.update(changes)
		doc.save()

	yield "save", save_ptype, lambda: save(values)
	for field, value in values.items():
		yield f"save {field}", save_ptype, lambda field=field, value=value: save({field: value})
		yield f"frappe.client.set_value {field}", save_ptype, lambda field=field, value=value: frappe.client.set_value(doctype, name, field, value)
	yield "frappe.client.set_value all", save_ptype, lambda: frappe.client.set_value(doctype, name, json.dumps(values))
	if source_docstatus == 0 and target_docstatus == 1:
		yield "submit with the state", "submit", lambda: frappe.get_doc(doctype, name).update(values).submit()
		# Frappe moves a submitted document to the workflow's first submitted state by itself.
		yield "plain submit", "submit", lambda: frappe.get_doc(doctype, name).submit()
	if source_docstatus == 1 and target_docstatus == 2:
		yield "plain cancel", "cancel", lambda: frappe.get_doc(doctype, name).cancel()
	yield "insert in the state", "create", lambda: frappe.get_doc({"doctype": doctype, **values}).insert(set_name=f"GATE-{frappe.generate_hash(length=10)}")


def attempt(user: str, call) -> Exception | None:
	frappe.db.savepoint("gate_attempt")
	frappe.set_user(user)
	try:
		call()
		return None
	except Exception as error:  # noqa: BLE001 (judged by the test)
		return error
	finally:
		frappe.set_user("Administrator")
		frappe.local.message_log = []
		frappe.db.rollback(save_point="gate_attempt")


def test_the_cases_cover_every_signed_workflow(test_workflow):
	doctypes = {case.doctype for case in signed_cases()}
	assert {"Change Request", "Recall", "UDI Device Identifier", TEST_DOCTYPE} <= doctypes


def test_no_write_path_reaches_a_signed_state_as_any_role(test_workflow, role_users):
	failures = []
	tried = 0
	for case in signed_cases():
		name = document_in_state(case.workflow, case.doctype, case.source)
		for role, user in role_users.users.items():
			for path, ptype, call in write_paths(case, name):
				tried += 1
				error = attempt(user, call)
				allowed = role == "Administrator" or frappe.has_permission(case.doctype, ptype, user=user)
				# Frappe's own permission check may come first; a user it lets through meets the gate.
				if error is None or not isinstance(error, GATE_ERRORS if allowed else (*GATE_ERRORS, frappe.PermissionError)):
					# A plain submit reaches the state only after the document's own validation, which this
					# bare document may fail first: then at least nothing reached the state.
					if error is not None and path == "plain submit":
						continue
					failures.append(f"{case.doctype} {case.source} → {case.target}: {path} as {role}: {error!r}")
		stored = frappe.db.get_value(case.doctype, name, [case.workflow.state_field, "docstatus"])
		assert stored == (case.source, int(case.workflow.states[case.source].doc_status or 0))
	assert tried > 300
	assert not failures, "\n".join(failures)


def test_the_signing_call_reaches_the_signed_states_of_the_test_workflow(test_workflow, role_users):
	"""The gate lets the signature through: the test workflow's signed approval submits, its signed
	withdrawal cancels."""
	engineer, approver = role_users.users[QUALITY_ENGINEER], role_users.users[QUALITY_APPROVER]
	frappe.set_user(engineer)
	doc = frappe.get_doc({"doctype": TEST_DOCTYPE, "title": "Signed through"}).insert()
	assert (doc.gate_state, doc.status) == ("Draft", "Draft")
	doc = signed_workflow_action(doc, "Review")
	frappe.set_user(approver)
	with pytest.raises(SignatureError, match="Wrong password"):
		signed_workflow_action(doc, "Approve", password="not-it")
	doc = signed_workflow_action(doc, "Approve")
	assert (doc.gate_state, doc.status, doc.docstatus) == ("Approved", "Approved", 1)
	doc = signed_workflow_action(doc, "Withdraw")
	assert (doc.gate_state, doc.status, doc.docstatus) == ("Withdrawn", "Withdrawn", 2)
	assert [s.meaning for s in frappe.get_all(
		"Electronic Signature", filters={"reference_doctype": TEST_DOCTYPE, "reference_name": doc.name}, fields=["meaning"], order_by="creation"
	)] == ["Approved", "Rejected"]


def api(web_server: str, token: str, method: str, path: str, **kwargs) -> requests.Response:
	return requests.request(
		method, f"{web_server}{path}", headers={"Authorization": token, "Accept": "application/json"}, timeout=60, **kwargs
	)


def http_write_paths(case, name: str):
	"""(path, request arguments) for each HTTP way toward the target."""
	doctype, values = case.doctype, target_values(case)
	resource = f"/api/resource/{doctype}"
	yield "PUT state and status", ("PUT", f"{resource}/{name}"), {"json": values}
	for field, value in values.items():
		yield f"PUT {field}", ("PUT", f"{resource}/{name}"), {"json": {field: value}}
		yield f"set_value {field}", ("POST", "/api/method/frappe.client.set_value"), {
			"data": {"doctype": doctype, "name": name, "fieldname": field, "value": value}
		}
	yield "bulk workflow approval", ("POST", "/api/method/frappe.model.workflow.bulk_workflow_approval"), {
		"data": {"docnames": json.dumps([name]), "doctype": doctype, "action": case.action}
	}
	yield "POST a new document in the state", ("POST", resource), {"json": {**values, "title": "Gate"}}
	if int(case.workflow.states[case.target].doc_status or 0) == 1:
		yield "frappe.client.submit", ("POST", "/api/method/frappe.client.submit"), {
			"data": {"doc": json.dumps({**frappe.get_doc(doctype, name).as_dict(convert_dates_to_str=True), **values})}
		}


def test_no_http_write_path_reaches_a_signed_state(test_workflow, role_users, web_server):
	"""Over plain HTTP, as a role the transition allows, one it does not, and Administrator: every answer
	is a 4xx (bulk approval answers 200 and logs the refusal) and nothing moves."""
	started = frappe.utils.now()
	documents = {}
	for case in signed_cases():
		documents[(case.doctype, case.source, case.target)] = document_in_state(case.workflow, case.doctype, case.source)
	frappe.db.commit()
	failures = []
	try:
		for case in signed_cases():
			name = documents[(case.doctype, case.source, case.target)]
			others = [role for role in (QUALITY_ENGINEER, REGULATORY_AFFAIRS, QUALITY_APPROVER) if role not in case.roles][:1]
			for role in (*sorted(case.roles), *others, "Administrator"):
				for path, (method, url), arguments in http_write_paths(case, name):
					response = api(web_server, role_users.tokens[role], method, url, **arguments)
					expected = response.status_code == 200 if path == "bulk workflow approval" else 400 <= response.status_code < 500
					frappe.db.rollback()
					stored = frappe.db.get_value(case.doctype, name, [case.workflow.state_field, "docstatus"])
					reached = frappe.db.exists(
						case.doctype, {case.workflow.state_field: case.target, "creation": (">=", started), "name": ("not like", "GATE-%")}
					)
					if not expected or stored != (case.source, int(case.workflow.states[case.source].doc_status or 0)):
						failures.append(f"{case.doctype} {case.source} → {case.target}: {path} as {role}: {response.status_code} {response.text[:300]}")
					if reached:
						failures.append(f"{case.doctype}: a new document reached {case.target} by {path} as {role}")
	finally:
		frappe.db.rollback()
		for doctype in {case.doctype for case in signed_cases()}:
			frappe.db.delete(doctype, {"name": ("like", "GATE-%")})
		frappe.db.commit()
	assert not failures, "\n".join(failures)


def evidence_cases() -> list[tuple[str, list[str]]]:
	return list(signature_evidence().items())


@pytest.mark.requirement("MT-SIG-002")
def test_evidence_is_written_by_signing_alone_even_by_administrator():
	"""Every evidence doctype refuses a record inserted outside signing; every evidence field refuses a value
	written outside signing (finding 8, 9)."""
	cases = evidence_cases()
	assert {"Electronic Signature", "Electronic Signature Attempt", "Device History Record", "Change Request"} <= {d for d, _f in cases}
	di = released(make_device_identifier())
	signature = frappe.get_last_doc("Electronic Signature", filters={"reference_name": di.name})
	for doctype, fields in cases:
		meta = frappe.get_meta(doctype)
		if "*" in fields:
			forged = frappe.copy_doc(signature) if doctype == "Electronic Signature" else frappe.get_doc(
				{"doctype": doctype, "user": frappe.session.user, "outcome": "Unlocked", "unlocked_by": "Administrator"}
			)
			error = attempt("Administrator", lambda forged=forged: forged.insert(ignore_permissions=True))
			assert isinstance(error, SignatureEvidenceError), (doctype, error)
			continue
		for fieldname in fields:
			df = meta.get_field(fieldname)
			table = df.fieldtype in table_fields
			forged = forged_row(df.options, signature) if table else forged_value(df, signature)

			def forge(doc, fieldname=fieldname, table=table, forged=forged):
				if table:
					doc.append(fieldname, forged)
				else:
					doc.set(fieldname, forged)
				return doc

			def insert_forged(doctype=doctype, fieldname=fieldname, table=table, forged=forged, forge=forge):
				doc = forge(frappe.new_doc(doctype)).insert(ignore_permissions=True, ignore_mandatory=True, ignore_links=True)
				# A controller may reset the field of a new record itself: then nothing was forged.
				if (doc.get(fieldname) if table else str(doc.get(fieldname)) == str(forged)):
					raise AssertionError(f"{doctype}.{fieldname} stored a forged value")

			error = attempt("Administrator", insert_forged)
			assert error is None or isinstance(error, SignatureEvidenceError), (doctype, fieldname, error)
			for name in frappe.get_all(doctype, limit=1, pluck="name", order_by="creation desc"):
				error = attempt("Administrator", lambda name=name, doctype=doctype, forge=forge: forge(frappe.get_doc(doctype, name)).save(ignore_permissions=True))
				assert isinstance(error, SignatureEvidenceError), (doctype, fieldname, name, error)


def forged_value(df, signature):
	if df.fieldtype == "Datetime":
		return signature.signed_on
	if df.fieldtype == "Link":
		return signature.name if df.options == "Electronic Signature" else signature.signer
	return signature.signer_name


def forged_row(child_doctype: str, signature) -> dict:
	row = {}
	for df in frappe.get_meta(child_doctype).fields:
		if df.fieldtype in ("Link", "Datetime", "Data"):
			row[df.fieldname] = forged_value(df, signature)
	return row


# The findings, each as it was reproduced


def approved_change_request(role_users, brand: str):
	"""A released UDI-DI and an approved (submitted) Change Request to rename its brand."""
	di = released(make_device_identifier(brand_name="Filed Brand"))
	frappe.set_user(role_users.users[QUALITY_ENGINEER])
	change_request = frappe.get_doc(
		{
			"doctype": "Change Request", "title": "Rename the brand", "change_type": "Labeling", "description": "Gate test",
			"risk_level": "Low",
			"affected_records": [{"reference_doctype": "UDI Device Identifier", "reference_name": di.name}],
			"proposed_changes": [
				{"reference_doctype": "UDI Device Identifier", "reference_name": di.name, "fieldname": "brand_name", "new_value": brand}
			],
		}
	).insert()
	change_request = signed_workflow_action(change_request, "Submit for Review")
	frappe.set_user(role_users.users[QUALITY_APPROVER])
	change_request = signed_workflow_action(change_request, "Approve")
	frappe.set_user("Administrator")
	assert (change_request.status, change_request.docstatus) == ("Approved", 1)
	return di, change_request


@pytest.mark.requirement("MT-CC-001")
def test_finding_1_a_submitted_change_request_moves_only_by_signature(role_users, web_server):
	di, change_request = approved_change_request(role_users, "Bypassed Brand")
	frappe.db.commit()
	engineer = role_users.tokens[QUALITY_ENGINEER]
	resource = f"/api/resource/Change Request/{change_request.name}"

	bulk = api(web_server, engineer, "POST", "/api/method/frappe.model.workflow.bulk_workflow_approval",
	           data={"docnames": json.dumps([change_request.name]), "doctype": "Change Request", "action": "Mark Implemented"})
	assert bulk.status_code == 200
	answers = [
		api(web_server, engineer, "POST", "/api/method/frappe.client.set_value",
		    data={"doctype": "Change Request", "name": change_request.name, "fieldname": field, "value": value})
		for field, value in (("workflow_state", "Implemented"), ("workflow_state", "Verified"), ("status", "Implemented"), ("status", "Closed"))
	]
	answers.append(api(web_server, engineer, "PUT", resource, json={"workflow_state": "Implemented", "status": "Implemented"}))
	assert [answer.status_code for answer in answers] == [417] * 5, [answer.text[:300] for answer in answers]
	assert "electronic signature" in answers[0].text

	frappe.db.rollback()
	assert frappe.db.get_value("Change Request", change_request.name, ["workflow_state", "status"]) == ("Approved", "Approved")
	assert frappe.db.get_value("UDI Device Identifier", di.name, "brand_name") == "Filed Brand"
	assert not frappe.db.exists("Electronic Signature", {"reference_name": change_request.name, "meaning": "Implemented"})

	# The signing call still gets there.
	frappe.set_user(role_users.users[QUALITY_ENGINEER])
	change_request = signed_workflow_action(change_request, "Mark Implemented")
	assert change_request.status == "Implemented"
	assert frappe.db.get_value("UDI Device Identifier", di.name, "brand_name") == "Bypassed Brand"


def test_a_plain_submit_does_not_approve_a_change_request(role_users):
	"""Frappe moves a submitted document to its workflow's first submitted state (Approved) by itself."""
	frappe.set_user(role_users.users[QUALITY_ENGINEER])
	change_request = frappe.get_doc(
		{"doctype": "Change Request", "title": "Submit me", "change_type": "Labeling", "description": "Gate test", "risk_level": "Low",
		 "affected_records": [{"reference_doctype": "UDI Device Identifier", "reference_name": make_device_identifier().name}]}
	).insert()
	change_request = signed_workflow_action(change_request, "Submit for Review")
	change_request.reload()
	with pytest.raises(SignatureError, match="is an electronic signature"):
		change_request.submit()
	new = frappe.get_doc(
		{"doctype": "Change Request", "title": "Born approved", "change_type": "Labeling", "description": "Gate test", "docstatus": 1}
	)
	with pytest.raises(SignatureError, match="is an electronic signature"):
		new.insert()


@pytest.mark.requirement("MT-RCL-003")
def test_finding_2_a_recall_is_not_closed_by_writing_its_status(plant, role_users):  # noqa: F811
	recall = signed_workflow_action(make_recall(plant, "RA"), "Scope Recall")
	held = active_holds(recall.name)
	assert held
	for role in (QUALITY_ENGINEER, REGULATORY_AFFAIRS, QUALITY_APPROVER):
		for field in ("status", "workflow_state"):
			error = attempt(role_users.users[role], lambda field=field: frappe.client.set_value("Recall", recall.name, field, "Closed"))
			assert isinstance(error, SignatureError), (role, field, error)
	assert frappe.db.get_value("Recall", recall.name, ["workflow_state", "status"]) == ("Scoped", "Scoped")
	assert active_holds(recall.name) == held
	assert not frappe.db.exists("Electronic Signature", {"reference_name": recall.name})


@pytest.mark.requirement("MT-DHR-005", "MT-DHR-002")
def test_finding_6_a_reading_bound_to_a_released_dhr_cannot_move_away(production, user_with_role):  # noqa: F811
	lot_dhr, _leak = complete_lot(production)
	approver = can_sign(user_with_role(QUALITY_APPROVER))
	frappe.set_user(approver)
	release_device_history_record(lot_dhr.name, password=SIGNING_PASSWORD)
	frappe.set_user("Administrator")
	reading = frappe.get_doc("Process Parameter Record", {"work_order": production.work_order})
	other_work_order = frappe.copy_doc(frappe.get_doc("Work Order", production.work_order)).insert()
	reading.update({"value": 999, "work_order": other_work_order.name})
	with pytest.raises(frappe.ValidationError, match="bound to released Device History Record"):
		reading.save()
	reading.reload()
	reading.value = 181
	with pytest.raises(frappe.ValidationError, match="bound to released Device History Record"):
		reading.save()


@pytest.mark.requirement("MT-SIG-002", "MT-DHR-002")
def test_findings_8_and_9_forged_signatures_and_release_data_are_refused_over_http(role_users, web_server):
	di = released(make_device_identifier())
	signature = frappe.get_last_doc("Electronic Signature", filters={"reference_name": di.name})
	dhr = frappe.new_doc("Device History Record")
	dhr.update({"name": f"GATE-DHR-{frappe.generate_hash(length=6)}", "status": "Complete", "owner": "Administrator"})
	dhr.creation = dhr.modified = frappe.utils.now()
	dhr.db_insert()
	frappe.db.commit()
	signatures_before = frappe.db.count("Electronic Signature")
	try:
		forged = api(web_server, role_users.tokens["Administrator"], "POST", "/api/resource/Electronic Signature",
		             json={"reference_doctype": "Device History Record", "reference_name": dhr.name, "meaning": "Released",
		                   "signer": role_users.users[QUALITY_APPROVER], "signer_name": "Someone Else", "signed_on": frappe.utils.now()})
		unlocked = api(web_server, role_users.tokens["Administrator"], "POST", "/api/resource/Electronic Signature Attempt",
		               json={"user": role_users.users[QUALITY_APPROVER], "outcome": "Unlocked", "unlocked_by": "Administrator"})
		release_data = {"released_by": role_users.users[QUALITY_APPROVER], "released_on": frappe.utils.now(), "release_signature": signature.name}
		puts = [
			api(web_server, role_users.tokens[role], "PUT", f"/api/resource/Device History Record/{dhr.name}", json=release_data)
			for role in (QUALITY_APPROVER, QUALITY_ENGINEER, "Administrator")
		]
		assert [response.status_code for response in (forged, unlocked, *puts)] == [403] * 5, [r.text[:300] for r in (forged, unlocked, *puts)]
		assert "only by an electronic signature" in puts[0].text
		frappe.db.rollback()
		assert frappe.db.count("Electronic Signature") == signatures_before
		assert frappe.db.get_value("Device History Record", dhr.name, ["released_by", "released_on", "release_signature"]) == (None, None, None)
	finally:
		frappe.db.rollback()
		frappe.db.delete("Device History Record", {"name": dhr.name})
		frappe.db.commit()


@pytest.mark.requirement("MT-CC-001")
def test_approvals_of_a_change_request_are_written_only_by_signing(role_users):
	frappe.set_user(role_users.users[QUALITY_ENGINEER])
	change_request = frappe.get_doc(
		{"doctype": "Change Request", "title": "Forge approvals", "change_type": "Labeling", "description": "Gate test", "risk_level": "Low",
		 "affected_records": [{"reference_doctype": "UDI Device Identifier", "reference_name": make_device_identifier().name}]}
	).insert()
	change_request = signed_workflow_action(change_request, "Submit for Review")
	change_request.reload()
	change_request.append("approvals", {"role": QUALITY_APPROVER, "approver": role_users.users[QUALITY_APPROVER], "approver_name": "Forged"})
	with pytest.raises(SignatureEvidenceError, match="written only by an electronic signature"):
		change_request.save()


@pytest.mark.requirement("MT-SIG-002")
def test_signed_records_and_signatures_cannot_be_renamed():
	di = released(make_device_identifier())
	signature = frappe.get_last_doc("Electronic Signature", filters={"reference_name": di.name})
	with pytest.raises(SignatureEvidenceError, match="cannot be renamed"):
		frappe.rename_doc("UDI Device Identifier", di.name, make_device_identifier().name + "X", force=True)
	with pytest.raises(SignatureEvidenceError, match="cannot be renamed"):
		frappe.rename_doc("Electronic Signature", signature.name, signature.name + "-X", force=True)


def csv_of(doctype: str, row: dict) -> str:
	"""A Data Import file: the fields' labels as headers, as the Desk's template has them."""
	meta = frappe.get_meta(doctype)
	header = ["ID" if field == "name" else meta.get_label(field) for field in row]
	return ",".join(header) + "\n" + ",".join(str(value) for value in row.values()) + "\n"


def test_data_import_reaches_no_signed_state_and_writes_no_evidence(role_users):
	"""Frappe's Data Import (update existing, insert new) meets the same gate; it commits or rolls back each
	row itself, so the documents are committed first."""
	di, change_request = approved_change_request(role_users, "Imported Brand")
	signature = frappe.get_last_doc("Electronic Signature", filters={"reference_name": di.name})
	imports = [
		("Change Request", "Update Existing Records",
		 csv_of("Change Request", {"name": change_request.name, "workflow_state": "Implemented", "status": "Implemented"})),
		("Electronic Signature", "Insert New Records",
		 csv_of("Electronic Signature", {"reference_doctype": "UDI Device Identifier", "reference_name": di.name, "meaning": "Approved",
		                                 "signer": signature.signer, "signer_name": "Someone Else", "signed_on": signature.signed_on})),
	]
	# Neither doctype ships importable; a System Manager could make them so in Customize Form.
	setters = [
		make_property_setter(doctype, None, "allow_import", 1, "Check", for_doctype=True, validate_fields_for_doctype=False).name
		for doctype, _type, _content in imports
	]
	names = []
	for doctype, import_type, content in imports:
		file = frappe.get_doc(
			{"doctype": "File", "file_name": f"gate-{frappe.generate_hash(length=6)}.csv", "content": content, "is_private": 1}
		).insert()
		names.append(
			frappe.get_doc(
				{"doctype": "Data Import", "reference_doctype": doctype, "import_type": import_type, "import_file": file.file_url}
			).insert().name
		)
	frappe.db.commit()
	signatures_before = frappe.db.count("Electronic Signature")
	try:
		for name in names:
			start_import(name)
		frappe.db.rollback()
		logs = frappe.get_all("Data Import Log", filters={"data_import": ("in", names)}, fields=["success", "messages", "exception"])
		assert len(logs) == 2 and not any(log.success for log in logs), logs
		assert all("electronic sign" in log.exception for log in logs), [log.exception[-300:] for log in logs]
		assert frappe.db.get_value("Change Request", change_request.name, ["workflow_state", "status"]) == ("Approved", "Approved")
		assert frappe.db.get_value("UDI Device Identifier", di.name, "brand_name") == "Filed Brand"
		assert frappe.db.count("Electronic Signature") == signatures_before
	finally:
		frappe.db.rollback()
		frappe.db.delete("Property Setter", {"name": ("in", setters)})
		frappe.db.commit()
		for doctype, _type, _content in imports:
			frappe.clear_cache(doctype=doctype)
