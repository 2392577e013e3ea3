"""Admins build reports on MedTrace data in the Desk without code — Report Builder and Query Reports saved
as non-standard Report records — and those reports apply the viewer's permissions."""

import json

import frappe
import pytest
from frappe.desk.query_report import run as run_query_report
from frappe.desk.reportview import execute as report_builder_rows

pytestmark = pytest.mark.requirement("MT-INS-005")


@pytest.fixture
def user_without_quality_rights():
	email = "no-quality-rights@medtrace-test.example"
	if not frappe.db.exists("User", email):
		frappe.get_doc({"doctype": "User", "email": email, "first_name": "Sales", "send_welcome_email": 0}).insert(ignore_permissions=True)
	user = frappe.get_doc("User", email)
	user.set("roles", [])
	user.add_roles("Sales User")
	return email


def make_reports():
	builder = frappe.get_doc(
		{"doctype": "Report", "report_name": f"Open PPRs {frappe.generate_hash(length=5)}", "ref_doctype": "Process Parameter Record",
		 "report_type": "Report Builder", "is_standard": "No",
		 "json": json.dumps({"filters": [["Process Parameter Record", "in_specification", "=", 0]],
		                     "fields": [["name", "Process Parameter Record"], ["parameter", "Process Parameter Record"], ["value", "Process Parameter Record"]]})}
	).insert()
	query = frappe.get_doc(
		{"doctype": "Report", "report_name": f"PPR Count {frappe.generate_hash(length=5)}", "ref_doctype": "Process Parameter Record",
		 "report_type": "Query Report", "is_standard": "No",
		 "query": "select parameter as \"Parameter::200\", count(*) as \"Readings:Int:100\" from `tabProcess Parameter Record` group by parameter"}
	).insert()
	return builder, query


def test_reports_saved_in_the_desk_run_for_permitted_users_only(user_without_quality_rights):
	from factories import make_item, receive_stock

	item = make_item(has_batch_no=1, create_new_batch=1)
	receive_stock(item.name, qty=1)
	batch = frappe.get_all("Batch", filters={"item": item.name}, pluck="name")[0]
	frappe.get_doc({"doctype": "Process Parameter Record", "parameter": "Report Test Pressure", "value": 9, "upper_limit": "5",
	                "batch_no": batch}).insert()
	builder, query = make_reports()

	settings = json.loads(builder.json)
	rows = report_builder_rows("Process Parameter Record", fields=["name", "parameter"], filters=settings["filters"])
	assert any(row.parameter == "Report Test Pressure" for row in rows)
	result = run_query_report(query.name)
	rows = [tuple(row.values()) if isinstance(row, dict) else tuple(row) for row in result["result"]]
	assert ("Report Test Pressure", 1) in rows

	frappe.set_user(user_without_quality_rights)
	with pytest.raises(frappe.PermissionError):
		report_builder_rows("Process Parameter Record", fields=["name"], filters=settings["filters"])
	with pytest.raises(frappe.PermissionError):
		run_query_report(query.name)


def test_shipped_example_reports_exist_and_run():
	assert frappe.db.get_value("Report", "DHRs Awaiting Release", "is_standard") == "No"
	result = run_query_report("Integration Messages Needing Attention")
	assert [column["label"] for column in result["columns"]][:3] == ["System", "Message Type", "Status"]
