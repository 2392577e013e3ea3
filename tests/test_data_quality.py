"""Data-quality rules configured in the Desk: evaluated hourly and on demand, they open one exception per
rule and record, assign it to the responsible role's users and close it once the data is fixed."""

import json

import frappe
import pytest
from frappe.utils import add_days, now_datetime

from factories import default_warehouse, make_customer, make_delivery, make_device_identifier, make_item, receive_stock
from medtrace.quality.data_quality import evaluate_all_rules, evaluate_rule, run_rule_now
from medtrace.setup.fixtures import read_fixture
from medtrace.setup.permissions import PRODUCTION_OPERATOR, QUALITY_ENGINEER, REGULATORY_AFFAIRS, users_with_roles
from offline_seed import TEST_COMPANY
from test_production_udi import make_batch, released
from test_roles import user_with_role  # noqa: F401 (fixture)

pytestmark = pytest.mark.requirement("MT-DQ-001")


def open_exceptions(rule: str) -> dict[str, str]:
	return dict(
		frappe.get_all("Data Quality Exception", filters={"rule": rule, "status": "Open"}, fields=["record", "name"], as_list=True)
	)


def assignees(exception: str, status: str = "Open") -> set[str]:
	return set(
		frappe.get_all(
			"ToDo",
			filters={"reference_type": "Data Quality Exception", "reference_name": exception, "status": status},
			pluck="allocated_to",
		)
	)


def make_rule(**values) -> "frappe.Document":
	rule = frappe.new_doc("Data Quality Rule")
	rule.update({"rule_name": f"MT Test Rule {frappe.generate_hash(length=6)}", "severity": "Major",
	             "responsible_role": QUALITY_ENGINEER, **values})
	return rule.insert()


def second_engineer() -> str:
	email = "second.quality.engineer@medtrace-test.example"
	user = frappe.get_doc({"doctype": "User", "email": email, "first_name": "Second Engineer", "send_welcome_email": 0})
	user.insert(ignore_permissions=True)
	user.add_roles(QUALITY_ENGINEER)
	return email


def keep_busy(users) -> None:
	"""Engineers the site already has (other suites commit some) get an open exception each, so the new
	ones are the least loaded."""
	earlier = frappe.get_doc({"doctype": "Data Quality Exception", "status": "Open", "severity": "Minor"})
	earlier.name = f"DQE-EARLIER-{frappe.generate_hash(length=6)}"
	earlier.db_insert()
	for user in users:
		frappe.get_doc(
			{"doctype": "ToDo", "allocated_to": user, "reference_type": "Data Quality Exception", "reference_name": earlier.name,
			 "status": "Open", "description": "An earlier exception"}
		).insert(ignore_permissions=True)


def test_rule_created_in_the_desk_flags_assigns_and_closes(user_with_role):
	engineer, other_engineer = user_with_role(QUALITY_ENGINEER), second_engineer()
	keep_busy(set(users_with_roles([QUALITY_ENGINEER])) - {engineer, other_engineer})
	item = make_item(has_batch_no=1)
	bad = [make_batch(item.name), make_batch(item.name)]
	good = make_batch(item.name, expiry_date="2030-01-05")

	frappe.set_user(engineer)
	rule = make_rule(
		document_type="Batch",
		filters_json=json.dumps([["Batch", "item", "=", item.name], ["Batch", "expiry_date", "is", "not set"]]),
		message="The lot's expiry date is missing.",
	)
	assert run_rule_now(rule.name) == {"violations": 2, "opened": 2, "closed": 0}

	exceptions = open_exceptions(rule.name)
	assert set(exceptions) == {batch.name for batch in bad}
	assert good.name not in exceptions
	exception = frappe.get_doc("Data Quality Exception", exceptions[bad[0].name])
	assert (exception.document_type, exception.severity, exception.message) == ("Batch", "Major", "The lot's expiry date is missing.")
	# Each goes to one engineer, the least loaded: the two new engineers have nothing open yet.
	assigned = [assignees(name) for name in exceptions.values()]
	assert all(len(users) == 1 for users in assigned)
	first, second = (users.pop() for users in assigned)
	assert first != second
	assert {first, second} == {engineer, other_engineer}
	assert frappe.db.exists("ToDo", {"reference_name": exception.name, "priority": "Medium", "description": exception.message})

	assert run_rule_now(rule.name)["opened"] == 0, "one open exception per rule and record"
	assert len(frappe.get_all("Data Quality Exception", filters={"rule": rule.name})) == 2

	frappe.set_user("Administrator")
	bad[0].expiry_date = "2030-01-06"
	bad[0].save()
	frappe.delete_doc("Batch", bad[1].name)
	assert evaluate_rule(rule.name) == {"violations": 0, "opened": 0, "closed": 2}
	fixed = frappe.get_doc("Data Quality Exception", exception.name)
	assert fixed.status == "Closed" and fixed.closed_on and fixed.resolution == "The record now meets the rule."
	assert assignees(exception.name, status="Closed") and not assignees(exception.name)
	assert frappe.db.get_value("Data Quality Exception", exceptions[bad[1].name], "resolution") == "The record was deleted."
	assert frappe.db.get_value("Data Quality Rule", rule.name, "last_run_violations") == 0


def test_expression_and_grace_period():
	item = make_item(has_batch_no=1)
	old, new = make_batch(item.name, description="sterile"), make_batch(item.name)
	frappe.db.set_value("Batch", old.name, "creation", add_days(now_datetime(), -10), update_modified=False)
	rule = make_rule(
		document_type="Batch",
		filters_json=json.dumps([["Batch", "item", "=", item.name]]),
		condition="doc.description != 'sterile'",
	)
	assert set(open_exceptions(rule.name)) == set()
	evaluate_rule(rule.name)
	assert set(open_exceptions(rule.name)) == {new.name}

	rule.condition = None
	rule.grace_period_days = 7
	rule.save()
	evaluate_rule(rule.name)
	assert set(open_exceptions(rule.name)) == {old.name}


def shipped_rule(name: str) -> str:
	assert frappe.db.get_value("Data Quality Rule", name, "enabled") == 1, name
	return name


def test_starter_rules_are_installed_valid_and_run():
	names = [doc["name"] for doc in read_fixture("data_quality_rule.json")]
	assert len(names) >= 6
	for name in names:
		frappe.get_doc("Data Quality Rule", name).validate()
		evaluate_rule(shipped_rule(name))


@pytest.mark.requirement("MT-DQ-002")
def test_batch_without_the_expiry_date_its_di_needs_is_flagged_until_fixed():
	rule = shipped_rule("Batch Without Required Expiry Date")
	item = make_item(has_batch_no=1)
	legacy = make_batch(item.name)  # made before the DI that prints the expiry date was released
	with_expiry = make_batch(item.name, expiry_date="2030-01-01")
	di = released(make_device_identifier(item=item.name))
	evaluate_rule(rule)
	exceptions = open_exceptions(rule)
	assert legacy.name in exceptions and with_expiry.name not in exceptions
	assert di.name in frappe.db.get_value("Data Quality Exception", exceptions[legacy.name], "message")

	legacy.reload()
	legacy.expiry_date = "2030-06-30"
	legacy.save()
	evaluate_rule(rule)
	assert legacy.name not in open_exceptions(rule)


@pytest.mark.requirement("MT-DQ-002")
def test_serial_without_udi_di_is_flagged():
	rule = shipped_rule("Serial Number Without UDI-DI")
	item = make_item(has_serial_no=1, serial_no_series="DQS-.#####")
	released(make_device_identifier(item=item.name, label_lot=0, label_serial=1, label_expiry_date=0))
	receive_stock(item.name, qty=2)
	serials = frappe.get_all("Serial No", filters={"item_code": item.name}, pluck="name")
	frappe.db.set_value("Serial No", serials[0], "udi_device_identifier", None)  # legacy data import
	evaluate_rule(rule)
	assert serials[0] in open_exceptions(rule) and serials[1] not in open_exceptions(rule)


@pytest.mark.requirement("MT-DQ-002")
def test_received_batch_without_supplier_lot_is_flagged():
	rule = shipped_rule("Received Lot Without Supplier Lot")
	item = make_item(has_batch_no=1, create_new_batch=1)
	if not frappe.db.exists("Supplier", "MT Test Supplier"):
		frappe.get_doc({"doctype": "Supplier", "supplier_name": "MT Test Supplier"}).insert()
	receipt = frappe.get_doc(
		{"doctype": "Purchase Receipt", "supplier": "MT Test Supplier", "company": TEST_COMPANY, "currency": "CNY",
		 "conversion_rate": 1, "items": [{"item_code": item.name, "qty": 5, "rate": 10, "warehouse": default_warehouse()}]}
	).insert()
	receipt.submit()
	batch = frappe.get_all("Batch", filters={"item": item.name}, pluck="name")[0]
	evaluate_rule(rule)
	assert batch in open_exceptions(rule)
	assert receipt.name in frappe.db.get_value("Data Quality Exception", open_exceptions(rule)[batch], "message")

	frappe.db.set_value("Batch", batch, "medtrace_supplier_lot", "SUP-LOT-778")
	evaluate_rule(rule)
	assert batch not in open_exceptions(rule)


@pytest.mark.requirement("MT-DQ-002")
def test_quality_inspection_without_readings_is_flagged():
	rule = shipped_rule("Quality Inspection Without Readings")
	item = make_item(has_batch_no=1, create_new_batch=1)
	entry = receive_stock(item.name, qty=3)
	inspection = frappe.get_doc(
		{"doctype": "Quality Inspection", "inspection_type": "Incoming", "reference_type": "Stock Entry",
		 "reference_name": entry.name, "item_code": item.name, "sample_size": 1, "inspected_by": "Administrator",
		 "manual_inspection": 1, "status": "Accepted"}
	).insert()
	inspection.submit()
	evaluate_rule(rule)
	assert inspection.name in open_exceptions(rule)


@pytest.mark.requirement("MT-DQ-002")
def test_delivered_lot_whose_udi_no_longer_matches_is_flagged():
	rule = shipped_rule("Delivered Lot With Inconsistent UDI")
	item = make_item(has_batch_no=1, create_new_batch=1, has_expiry_date=1, shelf_life_in_days=365)
	released(make_device_identifier(item=item.name))
	receive_stock(item.name, qty=4)
	batch = frappe.get_all("Batch", filters={"item": item.name}, pluck="name")[0]
	make_delivery(make_customer(), item.name, 2, default_warehouse(), batch_no=batch)
	evaluate_rule(rule)
	assert batch not in open_exceptions(rule)

	frappe.db.set_value("Batch", batch, "expiry_date", "2035-12-31")  # changed behind the UDI's back
	evaluate_rule(rule)
	assert batch in open_exceptions(rule)
	assert "but its DI and dates give" in frappe.db.get_value("Data Quality Exception", open_exceptions(rule)[batch], "message")

	frappe.get_doc("Batch", batch).save()  # recomputes the UDI
	evaluate_rule(rule)
	assert batch not in open_exceptions(rule)


@pytest.mark.requirement("MT-DQ-002")
def test_delivered_lot_naming_a_udi_di_no_longer_registered_is_flagged():
	"""A DI removed behind the link checks' back (as reinstalling MedTrace does) is a finding, not a crash of
	the whole rule."""
	rule = shipped_rule("Delivered Lot With Inconsistent UDI")
	item = make_item(has_batch_no=1, create_new_batch=1, has_expiry_date=1, shelf_life_in_days=365)
	di = released(make_device_identifier(item=item.name))
	receive_stock(item.name, qty=4)
	batch = frappe.get_all("Batch", filters={"item": item.name}, pluck="name")[0]
	make_delivery(make_customer(), item.name, 2, default_warehouse(), batch_no=batch)
	frappe.db.delete("UDI Device Identifier", di.name)
	frappe.clear_document_cache("UDI Device Identifier", di.name)
	evaluate_rule(rule)
	assert f"names UDI-DI {di.name}, which is not registered" in frappe.db.get_value(
		"Data Quality Exception", open_exceptions(rule)[batch], "message"
	)


@pytest.mark.parametrize(
	("values", "message"),
	[
		({}, "Give the rule a condition"),
		({"filters_json": "[[\"Batch\", \"expiry_date\""}, "not valid JSON"),
		({"filters_json": '{"expiry": 1}'}, "no field"),
		({"filters_json": '[["Serial No", "item_code", "=", "X"]]'}, "neither Batch nor one of its tables"),
		({"filters_json": '[["Batch", "expiry_date", "~~", "2020-01-01"]]'}, "cannot be applied"),
		({"filters_json": '"expiry_date"'}, "must be a list of conditions"),
		({"check_function": "os.system"}, "not a registered data-quality check"),
		({"check_function": "medtrace.quality.data_quality_checks.serial_no_without_udi_di"}, "looks at Serial No, not Batch"),
		({"condition": "doc.expiry_date <"}, "cannot be evaluated"),
		({"condition": "doc.__class__"}, "cannot be evaluated"),
		({"condition": "unknown_name"}, "cannot be evaluated"),
		({"condition": "not doc.expiry_date", "grace_period_days": -1}, "cannot be negative"),
		({"document_type": "UDI Market Risk Class", "condition": "True"}, "cannot be checked by a rule"),
	],
)
def test_bad_rules_are_refused_with_a_clear_message(values, message):
	name = f"MT Bad Rule {frappe.generate_hash(length=6)}"
	with pytest.raises(frappe.ValidationError, match=message):
		make_rule(rule_name=name, **{"document_type": "Batch", **values})
	assert not frappe.db.exists("Data Quality Rule", name)


def test_scheduled_run_evaluates_enabled_rules_and_survives_a_broken_one():
	item = make_item(has_batch_no=1)
	batch = make_batch(item.name)
	filters = json.dumps([["Batch", "item", "=", item.name]])
	working = make_rule(document_type="Batch", filters_json=filters)
	disabled = make_rule(document_type="Batch", filters_json=filters, enabled=0)
	broken = make_rule(document_type="Batch", filters_json=filters)
	# A rule that broke after it was saved, e.g. a custom field it filters on was deleted.
	frappe.db.set_value("Data Quality Rule", broken.name, "filters_json", '[["Batch", "custom_gone", "=", 1]]')
	evaluate_all_rules()
	assert batch.name in open_exceptions(working.name)
	assert not open_exceptions(disabled.name)
	assert frappe.db.exists("Error Log", {"method": f"Data Quality Rule {broken.name} failed"})


def test_overlapping_runs_cannot_open_an_exception_twice():
	from medtrace.quality.data_quality import find_violations, open_exception

	item = make_item(has_batch_no=1)
	batch = make_batch(item.name)
	rule = make_rule(document_type="Batch", filters_json=json.dumps([["Batch", "item", "=", item.name]]))
	found = find_violations(rule)
	assert open_exception(rule, batch.name, found[batch.name], {}) == 1
	assert open_exception(rule, batch.name, found[batch.name], {}) == 0
	assert len(frappe.get_all("Data Quality Exception", filters={"rule": rule.name})) == 1


def test_scheduled_run_commits_large_runs_in_batches(monkeypatch):
	from medtrace.quality import data_quality

	item = make_item(has_batch_no=1)
	for _number in range(5):
		make_batch(item.name)
	rule = make_rule(document_type="Batch", filters_json=json.dumps([["Batch", "item", "=", item.name]]))
	commits = []
	monkeypatch.setattr(frappe.db, "commit", lambda: commits.append(len(open_exceptions(rule.name))))
	data_quality.apply_findings(rule, data_quality.find_violations(rule), commit_every=2)
	assert commits == [2, 4]


@pytest.mark.parametrize("role", [REGULATORY_AFFAIRS, PRODUCTION_OPERATOR])
def test_run_now_needs_write_permission_on_the_rule(user_with_role, role):
	rule = make_rule(document_type="Batch", filters_json='[["Batch", "item", "=", "-"]]')
	frappe.set_user(user_with_role(role))
	with pytest.raises(frappe.PermissionError):
		run_rule_now(rule.name)
