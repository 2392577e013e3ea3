"""The permission matrix: what each MedTrace role, a Desk user without MedTrace roles and Guest may do with
every MedTrace doctype, report, page and whitelisted method. README's "Permission matrix" mirrors it.

Doctypes, reports and pages are found in the app's files and whitelisted methods by importing every
medtrace module, so whatever is added later fails here until its row is written below (and in README).
Every argument of every whitelisted method is also sent values no request should make a server error of.
A method counts as allowed when it does not refuse the user with a PermissionError — its sample arguments
may still be rejected for other reasons — and as denied when it does.
"""

import importlib
import json
import pkgutil
from pathlib import Path

import frappe
import pytest

import medtrace
from factories import make_device_identifier, make_item, receive_stock, signed_workflow_action
from medtrace.setup.permissions import (
	PRODUCTION_OPERATOR,
	QUALITY_APPROVER,
	QUALITY_ENGINEER,
	REGULATORY_AFFAIRS,
	WAREHOUSE_OPERATOR,
)
from test_production_udi import released

pytestmark = pytest.mark.requirement("MT-PRM-001")


README = Path(__file__).resolve().parents[1] / "README.md"
APP = Path(medtrace.__file__).parent

GUEST = "Guest"
DESK_USER = "Desk user"  # a Desk user holding none of MedTrace's roles
DESK_ROLE = "MedTrace Test Plain Desk Role"
COLUMNS = (QUALITY_APPROVER, QUALITY_ENGINEER, REGULATORY_AFFAIRS, PRODUCTION_OPERATOR, WAREHOUSE_OPERATOR, GUEST, DESK_USER)
PTYPES = {"r": "read", "w": "write", "c": "create", "d": "delete", "s": "submit"}
Y = "✓"

# Doctype-level rights per column, in COLUMNS order: r read, w write, c create, d delete, s submit.
DOCTYPES = {
	#                            Approver Engineer Regulatory Production Warehouse Guest Desk user
	"UDI Device Identifier":    ("rw",    "rwc",   "rwcd",    "r",       "r",      "",   ""),
	"UDI Coding Rule":          ("rw",    "rwc",   "rwcd",    "r",       "r",      "",   ""),
	"MedTrace Settings":        ("r",     "r",     "rw",      "",        "",       "",   ""),
	"Device Master Record":     ("rw",    "rwc",   "rwc",     "r",       "",       "",   ""),
	"Device History Record":    ("rw",    "rw",    "r",       "r",       "r",      "",   ""),
	"Process Parameter Record": ("r",     "rwc",   "r",       "rc",      "",       "",   ""),
	"Data Quality Rule":        ("rwcd",  "rwc",   "r",       "",        "",       "",   ""),
	"Data Quality Exception":   ("r",     "r",     "r",       "r",       "r",      "",   ""),
	"Audit Chain Entry":        ("r",     "",      "",        "",        "",       "",   ""),
	"Audit Chain":              ("r",     "",      "",        "",        "",       "",   ""),
	"Integration System":       ("r",     "r",     "",        "",        "",       "",   ""),
	"Integration Message":      ("r",     "rw",    "",        "r",       "r",      "",   ""),
	"Trace Link":               ("r",     "r",     "r",       "",        "",       "",   ""),
	"Trace Node Stock":         ("r",     "r",     "r",       "",        "",       "",   ""),
	"UDI Label Log":            ("r",     "r",     "r",       "",        "",       "",   ""),
	"Trace Query Log":          ("r",     "r",     "",        "",        "",       "",   ""),
	"Traceability Event":       ("r",     "r",     "r",       "r",       "r",      "",   ""),
	"Change Request":           ("rws",   "rwcs",  "rwcs",    "r",       "",       "",   ""),
	"Electronic Signature":     ("r",     "r",     "r",       "",        "",       "",   ""),
	"Electronic Signature Attempt": ("r", "",      "",        "",        "",       "",   ""),
	"Recall":                   ("rwcd",  "rwcd",  "rw",      "",        "r",      "",   ""),
	"Recall Hold":              ("r",     "r",     "r",       "",        "r",      "",   ""),
	"Customer Complaint":       ("rwcd",  "rwc",   "rwc",     "",        "",       "",   ""),
	"Separation of Duties Rule": ("rwc",  "r",     "r",       "",        "",       "",   ""),
	"Validation Requirement":   ("r",     "r",     "r",       "",        "",       "",   ""),
	"Validation Run":           ("r",     "rwc",   "r",       "",        "",       "",   ""),
	"Package":                  ("r",     "r",     "r",       "rwc",     "rwc",    "",   ""),
	"Package Event":            ("r",     "r",     "r",       "r",       "r",      "",   ""),
}

# Child tables have no permissions of their own: they are read and written through their parent.
CHILD_TABLES = {
	"UDI Market Risk Class": "UDI Device Identifier",
	"UDI Coding Rule Part": "UDI Coding Rule",
	"DMR Requirement": "Device Master Record",
	"DHR Component": "Device History Record",
	"DHR Document": "Device History Record",
	"DHR Inspection": "Device History Record",
	"DHR Nonconformance": "Device History Record",
	"DHR Parameter": "Device History Record",
	"Change Request Affected Record": "Change Request",
	"Change Request Change": "Change Request",
	"Change Request Approval Requirement": "Change Request",
	"Change Request Approval": "Change Request",
	"Change Request Task": "Change Request",
	"Recall Scope": "Recall",
	"Recall Affected Unit": "Recall",
	"Recall Customer": "Recall",
	"Recall Mass Balance": "Recall",
	"Validation IQ Check": "Validation Run",
	"Validation OQ Result": "Validation Run",
	"Validation Matrix Row": "Validation Run",
	"Validation Impact": "Validation Run",
	"Package Content": "Package",
	"Package Event Item": "Package Event",
	"Recall Supplied Item": "Recall",
	"Recall Unit Total": "Recall",
}

REPORTS = {
	"Audit Trail": (Y, "", "", "", "", "", ""),
	"Batch Genealogy": (Y, Y, Y, "", "", "", ""),
	"Where-Used": (Y, Y, Y, "", "", "", ""),
	"Customer Exposure": (Y, Y, Y, "", "", "", ""),
	"Customer Devices": (Y, Y, Y, "", "", "", ""),
	"Serial History": (Y, Y, Y, "", "", "", ""),
	"UDI Data Dictionary": (Y, Y, Y, "", "", "", ""),
	"Trace Response Times": (Y, Y, "", "", "", "", ""),
	"Complaint Trends": (Y, Y, Y, "", "", "", ""),
	"Mock Recall Drill History": (Y, Y, Y, "", "", "", ""),
}

PAGES = {
	"udi-scan": (Y, Y, Y, Y, Y, "", ""),
	"trace-explorer": (Y, Y, Y, "", "", "", ""),
}

# Integration API methods answer only the API user of an enabled Integration System, none of these.
METHODS = {
	"medtrace.udi.scan.resolve_scan":                          (Y, Y, Y, Y, Y, "", ""),
	"medtrace.udi.scan.scan_label":                            (Y, Y, Y, Y, Y, "", ""),
	"medtrace.signatures.separation_of_duties.get_duty_restrictions": (Y, Y, Y, Y, Y, "", ""),
	"medtrace.udi.coding_rules.preview_next_number":           (Y, Y, Y, Y, Y, "", ""),
	"medtrace.quality.dhr.download_dhr_pdf":                   (Y, Y, Y, Y, Y, "", ""),
	"medtrace.quality.dhr.refresh_device_history_record":      (Y, Y, "", "", "", "", ""),
	"medtrace.quality.dhr.release_device_history_record":      (Y, "", "", "", "", "", ""),
	"medtrace.signatures.esignature.apply_workflow":              (Y, "", Y, "", "", "", ""),
	"medtrace.signatures.esignature.get_signing_status":          (Y, Y, Y, Y, Y, "", Y),
	"medtrace.signatures.esignature.get_signatures":              (Y, Y, Y, Y, "", "", ""),
	"medtrace.signatures.esignature.unlock_signing":              ("", "", "", "", "", "", ""),
	"medtrace.signatures.esignature.is_signing_locked":           ("", "", "", "", "", "", ""),
	"medtrace.quality.doctype.change_request.change_request.assess_change_request_impact": (Y, Y, Y, "", "", "", ""),
	"medtrace.audit.audit_chain.verify_audit_chain_now":     (Y, "", "", "", "", "", ""),
	"medtrace.audit.audit_chain.verify_against_checkpoint":  (Y, "", "", "", "", "", ""),
	"medtrace.quality.data_quality.get_registered_checks":     (Y, Y, Y, "", "", "", ""),
	"medtrace.quality.data_quality.run_rule_now":              (Y, Y, "", "", "", "", ""),
	"medtrace.medtrace_integrations.api_v1.post_message":      ("", "", "", "", "", "", ""),
	"medtrace.medtrace_integrations.api_v1.get_message":       ("", "", "", "", "", "", ""),
	"medtrace.medtrace_integrations.api_v1.openapi":           (Y, Y, "", Y, Y, "", ""),
	"medtrace.medtrace_integrations.inbound.replay_message":   ("", Y, "", "", "", "", ""),
	"medtrace.traceability.api.get_trace":                     (Y, Y, Y, "", "", "", ""),
	"medtrace.traceability.export.download_trace":             (Y, Y, Y, "", "", "", ""),
	"medtrace.traceability.trace_links.rebuild_trace_links":   ("", "", "", "", "", "", ""),
	"medtrace.udi.labels.download_labels":                     (Y, Y, Y, Y, Y, "", ""),
	"medtrace.recall.doctype.recall.recall.scope_recall":       (Y, Y, Y, "", "", "", ""),
	"medtrace.recall.doctype.recall.recall.place_recall_holds": (Y, Y, Y, "", "", "", ""),
	"medtrace.recall.notifications.send_recall_notifications": (Y, Y, Y, "", "", "", ""),
	"medtrace.recall.doctype.customer_complaint.customer_complaint.create_recall": (Y, Y, "", "", "", "", ""),
	"medtrace.recall.mass_balance.recalculate_mass_balance":   (Y, Y, Y, "", "", "", ""),
	"medtrace.validation.runs.import_oq_result":               ("", Y, "", "", "", "", ""),
	"medtrace.validation.runs.approve_validation_run":         (Y, "", "", "", "", "", ""),
	"medtrace.validation.runs.download_validation_report":     (Y, Y, Y, "", "", "", ""),
	"medtrace.packaging.packing.pack_scans":                    ("", "", "", Y, Y, "", ""),
	"medtrace.packaging.packing.remove_scans":                  ("", "", "", Y, Y, "", ""),
	"medtrace.packaging.packing.unpack_package":                ("", "", "", Y, Y, "", ""),
	"medtrace.packaging.production.pack_stock_entry":           ("", "", "", Y, Y, "", ""),
	"medtrace.packaging.shipping.add_packages_to_delivery_note": ("", "", "", "", "", "", ""),
	"medtrace.packaging.labels.download_package_labels":        (Y, Y, Y, Y, Y, "", ""),
	"medtrace.packaging.epcis.query_events":                    (Y, Y, Y, "", "", "", ""),
	"medtrace.packaging.recall.packages_to_pull":               (Y, Y, Y, "", Y, "", ""),
	"medtrace.packaging.recall.packages_holding":               (Y, Y, Y, Y, Y, "", ""),
}


def sample_arguments() -> dict[str, dict]:
	"""Records the methods act on, made as Administrator."""
	item = make_item(has_batch_no=1)
	di = released(make_device_identifier(item=item.name))
	dhr = frappe.get_doc({"doctype": "Device History Record", "item": item.name, "status": "Open"})
	dhr.name = f"DHR-PERMISSION-{frappe.generate_hash(length=6)}"
	dhr.db_insert()
	message = frappe.get_doc({"doctype": "Integration Message", "status": "Processed"})
	message.name = f"MT-PERMISSION:{frappe.generate_hash(length=6)}"
	message.db_insert()
	change_request = frappe.get_doc(
		{"doctype": "Change Request", "title": "Permission matrix", "change_type": "Process", "description": "x", "risk_level": "Low",
		 "affected_records": [{"reference_doctype": "Item", "reference_name": item.name}],
		 "approval_requirements": [{"role": QUALITY_APPROVER, "approvals_needed": 1}, {"role": REGULATORY_AFFAIRS, "approvals_needed": 1}]}
	).insert()
	change_request = signed_workflow_action(change_request, "Submit for Review")
	rule = frappe.get_doc(
		{"doctype": "Data Quality Rule", "rule_name": f"MT Permission Rule {frappe.generate_hash(length=6)}",
		 "document_type": "Batch", "filters_json": json.dumps([["Batch", "item", "=", item.name]]),
		 "responsible_role": QUALITY_ENGINEER}
	).insert()
	traced = make_item(has_batch_no=1, create_new_batch=1)
	receipt = receive_stock(traced.name, 1)
	lot = frappe.db.get_value("Batch", {"item": traced.name})
	base_unit = released(make_device_identifier(item=traced.name))
	case_di = released(make_device_identifier(item=traced.name, packaging_level="Case", contained_di=base_unit.name, quantity_per_package=10))
	package = frappe.get_doc(
		{"doctype": "Package", "identified_by": "Package UDI", "udi_device_identifier": case_di.name,
		 "warehouse": frappe.db.get_value("Stock Entry Detail", {"parent": receipt.name}, "t_warehouse")}
	).insert()
	recall = frappe.get_doc(
		{"doctype": "Recall", "title": "Permission matrix", "classification": "Class III", "trigger": "Internal Finding",
		 "reason": "x", "scope": [{"batch_no": lot}]}
	).insert()
	complaint = frappe.get_doc(
		{"doctype": "Customer Complaint", "reporter_name": "Permission matrix", "event_description": "x", "batch_no": lot}
	).insert()
	validation_run = frappe.get_doc({"doctype": "Validation Run", "title": "Permission matrix", "status": "Open", "oq_result": "Not Run"})
	validation_run.name = f"VAL-PERMISSION-{frappe.generate_hash(length=6)}"
	validation_run.db_insert()
	return {
		"medtrace.udi.scan.resolve_scan": {"scan": f"(01){di.name}"},
		"medtrace.udi.scan.scan_label": {"scan": f"(01){di.name}"},
		"medtrace.signatures.separation_of_duties.get_duty_restrictions": {"doctype": "UDI Device Identifier", "name": di.name},
		"medtrace.udi.coding_rules.preview_next_number": {"rule": {"sequence_reset": "Never", "parts": [{"part": "Sequence"}]}},
		"medtrace.quality.dhr.download_dhr_pdf": {"name": dhr.name},
		"medtrace.quality.dhr.refresh_device_history_record": {"name": dhr.name},
		"medtrace.quality.dhr.release_device_history_record": {"name": dhr.name, "password": "not-the-password"},
		"medtrace.signatures.esignature.apply_workflow": {"doc": change_request.as_json(), "action": "Approve", "password": "not-the-password"},
		"medtrace.signatures.esignature.get_signing_status": {},
		"medtrace.signatures.esignature.get_signatures": {"doctype": "Change Request", "name": change_request.name},
		"medtrace.signatures.esignature.unlock_signing": {"user": "Administrator"},
		"medtrace.signatures.esignature.is_signing_locked": {"user": "Administrator"},
		"medtrace.quality.doctype.change_request.change_request.assess_change_request_impact": {"name": change_request.name},
		"medtrace.audit.audit_chain.verify_audit_chain_now": {},
		"medtrace.audit.audit_chain.verify_against_checkpoint": {"sequence": 1, "entry_hash": "0" * 64},
		"medtrace.quality.data_quality.get_registered_checks": {},
		"medtrace.quality.data_quality.run_rule_now": {"rule": rule.name},
		"medtrace.medtrace_integrations.api_v1.post_message": {"message_type": "mes.process_parameter.v1", "message_id": "1", "payload": {}},
		"medtrace.medtrace_integrations.api_v1.get_message": {"message_id": "1"},
		"medtrace.medtrace_integrations.api_v1.openapi": {},
		"medtrace.medtrace_integrations.inbound.replay_message": {"name": message.name},
		"medtrace.traceability.api.get_trace": {"identifier": lot},
		"medtrace.traceability.export.download_trace": {"identifier": lot, "file_format": "csv"},
		"medtrace.traceability.trace_links.rebuild_trace_links": {},
		"medtrace.udi.labels.download_labels": {"doctype": "Batch", "name": lot},
		"medtrace.recall.doctype.recall.recall.scope_recall": {"name": recall.name},
		"medtrace.recall.doctype.recall.recall.place_recall_holds": {"name": recall.name},
		"medtrace.recall.notifications.send_recall_notifications": {"name": recall.name},
		"medtrace.recall.doctype.customer_complaint.customer_complaint.create_recall": {"name": complaint.name},
		"medtrace.recall.mass_balance.recalculate_mass_balance": {"name": recall.name},
		"medtrace.validation.runs.import_oq_result": {"name": validation_run.name, "result": "{}"},
		"medtrace.validation.runs.approve_validation_run": {"name": validation_run.name, "password": "not-the-password"},
		"medtrace.validation.runs.download_validation_report": {"name": validation_run.name},
		"medtrace.packaging.packing.pack_scans": {"package": package.name, "scans": ["not a label"]},
		"medtrace.packaging.packing.remove_scans": {"package": package.name, "scans": ["not a label"]},
		"medtrace.packaging.packing.unpack_package": {"package": package.name},
		"medtrace.packaging.production.pack_stock_entry": {"stock_entry": receipt.name, "units_per_case": 1},
		"medtrace.packaging.shipping.add_packages_to_delivery_note": {"delivery_note": {"doctype": "Delivery Note"}, "scans": ["x"]},
		"medtrace.packaging.labels.download_package_labels": {"name": package.name},
		"medtrace.packaging.epcis.query_events": {"lot": lot},
		"medtrace.packaging.recall.packages_to_pull": {"recall": recall.name},
		"medtrace.packaging.recall.packages_holding": {"nodes": [f"Batch::{lot}"]},
	}


# Discovery


def app_records(folder: str, doctype: str) -> dict[str, dict]:
	records = {}
	for path in APP.glob(f"*/{folder}/*/*.json"):
		record = json.loads(path.read_text())
		if record.get("doctype") == doctype:
			records[record["name"]] = record
	return records


def whitelisted_methods() -> dict:
	for module in pkgutil.walk_packages(medtrace.__path__, "medtrace."):
		importlib.import_module(module.name)
	return {f"{fn.__module__}.{fn.__qualname__}": fn for fn in frappe.whitelisted if fn.__module__.startswith("medtrace.")}


def undocumented(found, documented, what: str) -> str:
	missing = sorted(set(found) - set(documented))
	return (
		f"{what} without a row in the permission matrix: {missing}. Decide who may use them, write their row in "
		"tests/test_permission_matrix.py and in README's 'Permission matrix'."
	) if missing else ""


# Users


@pytest.fixture
def users():
	"""One user per column, each holding only that column's role."""
	if not frappe.db.exists("Role", DESK_ROLE):
		frappe.get_doc({"doctype": "Role", "role_name": DESK_ROLE, "desk_access": 1}).insert()
	emails = {}
	for column in COLUMNS:
		if column == GUEST:
			emails[column] = GUEST
			continue
		role = DESK_ROLE if column == DESK_USER else column
		email = f"matrix.{frappe.scrub(role)}@medtrace-test.example"
		user = frappe.get_doc("User", email) if frappe.db.exists("User", email) else frappe.get_doc(
			{"doctype": "User", "email": email, "first_name": role, "send_welcome_email": 0}
		).insert(ignore_permissions=True)
		user.set("roles", [])
		user.add_roles(role)
		emails[column] = email
	return emails


# Completeness


def test_every_doctype_is_in_the_matrix():
	doctypes = app_records("doctype", "DocType")
	tables = {name for name, record in doctypes.items() if record.get("istable")}
	assert not (message := undocumented(set(doctypes) - tables, DOCTYPES, "Doctypes")), message
	assert not (message := undocumented(tables, CHILD_TABLES, "Child tables")), message
	assert not set(DOCTYPES) - set(doctypes) and not set(CHILD_TABLES) - tables, "rows for doctypes that no longer exist"


def test_every_report_and_page_is_in_the_matrix():
	reports, pages = app_records("report", "Report"), app_records("page", "Page")
	assert not (message := undocumented(reports, REPORTS, "Reports")), message
	assert not (message := undocumented(pages, PAGES, "Pages")), message
	for name, record in {**reports, **pages}.items():
		assert record.get("roles"), f"{name} must name the roles allowed to open it"


def test_every_whitelisted_method_is_in_the_matrix():
	methods = whitelisted_methods()
	assert methods, "discovery found MedTrace's whitelisted methods"
	assert not (message := undocumented(methods, METHODS, "Whitelisted methods")), message
	assert not set(METHODS) - set(methods), f"rows for methods that no longer exist: {sorted(set(METHODS) - set(methods))}"


def test_readme_mirrors_the_matrix():
	section = README.read_text().split("### Permission matrix", 1)[1].split("\n## ", 1)[0]
	rows = {}
	for line in section.splitlines():
		cells = [cell.strip().strip("`*") for cell in line.strip().strip("|").split("|")]
		if line.startswith("|") and len(cells) == len(COLUMNS) + 1 and not set(cells[1]) <= {"-"}:
			rows[cells[0]] = tuple("" if cell == "—" else cell for cell in cells[1:])
	expected = {**DOCTYPES, **REPORTS, **PAGES, **METHODS}
	assert {name: rows.get(name) for name in expected} == expected
	for table, parent in CHILD_TABLES.items():
		assert f"{table} ({parent})" in section, table


# Rights


@pytest.mark.parametrize("doctype", sorted(DOCTYPES))
def test_doctype_rights(users, doctype):
	wrong = []
	for column, rights in zip(COLUMNS, DOCTYPES[doctype], strict=True):
		for letter, ptype in PTYPES.items():
			allowed = frappe.has_permission(doctype, ptype, user=users[column])
			if allowed != (letter in rights):
				wrong.append(f"{column} {ptype}: {'allowed' if allowed else 'denied'}")
	assert wrong == []


def test_every_doctype_a_user_may_read_has_a_list_in_the_desk(users):
	"""The Desk lists only the doctypes boot says a user can read, and boot leaves out "Read Only" doctypes
	the user cannot write: such a doctype would answer "Page not found" to its own readers."""
	from frappe.utils.user import UserPermissions

	missing = []
	for column in COLUMNS:
		if column == GUEST:
			continue
		desk = UserPermissions(users[column])
		desk.build_permissions()
		missing += [f"{column}: {doctype}" for doctype, rights in DOCTYPES.items()
		            if "r" in rights[COLUMNS.index(column)] and doctype not in desk.can_read]
	assert missing == []


@pytest.mark.parametrize("table", sorted(CHILD_TABLES))
def test_child_tables_have_only_their_parents_permissions(table):
	assert frappe.get_meta(table).istable
	assert not frappe.get_meta(table).permissions
	assert table in {df.options for df in frappe.get_meta(CHILD_TABLES[table]).get_table_fields()}


@pytest.mark.parametrize("report", sorted(REPORTS))
def test_report_access(users, report):
	record = frappe.get_doc("Report", report)
	for column, allowed in zip(COLUMNS, REPORTS[report], strict=True):
		frappe.set_user(users[column])
		# What frappe.desk.query_report requires: a role of the report and report rights on its doctype.
		permitted = bool(record.is_permitted()) and frappe.has_permission(record.ref_doctype, "report")
		assert permitted == bool(allowed), f"{column} on {report}"


@pytest.mark.parametrize("page", sorted(PAGES))
def test_page_access(users, page):
	record = frappe.get_doc("Page", page)
	for column, allowed in zip(COLUMNS, PAGES[page], strict=True):
		frappe.set_user(users[column])
		assert bool(record.is_permitted()) == bool(allowed), f"{column} on {page}"


@pytest.mark.parametrize("path", sorted(METHODS))
def test_method_access(users, web_server, path):
	"""Methods run for real, PDFs included (rendered through the test site's web server)."""
	method = whitelisted_methods()[path]
	arguments = sample_arguments()
	assert path in arguments, f"give {path} sample arguments in sample_arguments()"
	for column, allowed in zip(COLUMNS, METHODS[path], strict=True):
		frappe.set_user(users[column])
		if column == GUEST:
			with pytest.raises(frappe.PermissionError):
				frappe.is_whitelisted(method)  # the HTTP gate: no MedTrace method is open to guests
		try:
			method(**arguments[path])
			refused = False
		except frappe.PermissionError:
			refused = True
		except Exception:
			refused = False
		finally:
			frappe.set_user("Administrator")
			frappe.local.message_log = []
		assert refused != bool(allowed), f"{column} {'refused' if refused else 'let through'} by {path}"


def test_guest_reaches_nothing_over_http(web_server):
	import requests

	for path in whitelisted_methods():
		response = requests.get(f"{web_server}/api/method/{path}", timeout=30)
		assert response.status_code == 403, (path, response.status_code)
	for doctype, record in app_records("doctype", "DocType").items():
		url = f"{web_server}/api/resource/{doctype}" + (f"/{doctype}" if record.get("issingle") else "")
		response = requests.get(url, timeout=30)
		assert response.status_code == 403, (doctype, response.status_code)
	for report in REPORTS:
		response = requests.get(f"{web_server}/api/method/frappe.desk.query_report.run", params={"report_name": report}, timeout=30)
		assert response.status_code == 403, (report, response.status_code)


# Bad input, generically: every argument of every whitelisted method


# What a request can carry in one argument: broken JSON, JSON of the wrong shape, numbers and text nothing can
# use, as text (a query string or form) and as JSON values (a JSON body).
HOSTILE_VALUES = (
	"", "[", '{"doctype":', "[1, 2", "null", "NaN", "1e999", "-1", "x" * 5000, "\x00", "9999-12-31", "0000-00-00",
	0, -1, 1e308, True, [], [1], [None], [[]], ["x"], {}, {"a": 1}, [{"scan": 5}], {"doctype": 5},
)


@pytest.fixture
def prober():
	"""A user holding every MedTrace role: the wrong passwords the probe sends count against it, not against
	the Administrator the other tests sign as."""
	email = "matrix.bad-input@medtrace-test.example"
	user = frappe.get_doc("User", email) if frappe.db.exists("User", email) else frappe.get_doc(
		{"doctype": "User", "email": email, "first_name": "Bad input", "send_welcome_email": 0}
	).insert(ignore_permissions=True)
	user.add_roles("System Manager", *COLUMNS[:5])
	return email


@pytest.mark.requirement("MT-INT-004")
def test_every_argument_of_every_method_answers_bad_input_with_a_4xx(prober, monkeypatch):
	"""Each argument of each whitelisted method, the others as in sample_arguments(), is sent every hostile value
	through Frappe's own call path (its type checks run as in a request). A refusal must be an error Frappe
	answers with a 4xx; anything else would be a 500."""
	import inspect

	monkeypatch.setattr(frappe.flags, "in_test", True)
	methods, arguments = whitelisted_methods(), sample_arguments()
	server_errors = []
	for path, method in sorted(methods.items()):
		for parameter in inspect.signature(inspect.unwrap(method)).parameters:
			for value in HOSTILE_VALUES:
				frappe.set_user(prober)
				frappe.db.savepoint("probe")
				try:
					frappe.call(method, **{**arguments[path], parameter: value})
				except Exception as error:
					if getattr(error, "http_status_code", 500) >= 500:
						server_errors.append(f"{path}({parameter}={str(value)[:20]!r}): {type(error).__name__}: {str(error)[:120]}")
				finally:
					frappe.set_user("Administrator")
					frappe.local.message_log = []
					frappe.db.rollback(save_point="probe")
	assert not server_errors, "\n".join(server_errors)
