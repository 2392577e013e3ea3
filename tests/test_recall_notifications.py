"""Recall notifications on the trace scenario of test_trace_links: marking a recall notified queues one
email per affected customer with exactly their units in the body and the CSV attachment; a customer
without an email address refuses the transition, naming them; a drill records and sends nothing;
sending again needs write rights on the recall."""

import csv
import email
import io

import frappe
import pytest
from factories import acting_as, signed_workflow_action
from medtrace.recall.notifications import send_recall_notifications
from medtrace.setup.permissions import WAREHOUSE_OPERATOR
from test_recall import make_recall, refusal
from test_roles import user_with_role  # noqa: F401 (fixture)
from test_trace_links import plant_fixtures

pytestmark = pytest.mark.requirement("MT-RCL-005")


built_plant, plant = plant_fixtures()


def emails_of(plant) -> dict[str, str]:
	"""The scenario's customers have an email address on the customer; A's primary contact gets another,
	which takes precedence."""
	customer_a = plant.customers["A"][0]
	address = f"recall.officer.{plant.tag.lower()}@hospital-test.example"
	contact = frappe.get_doc(
		{"doctype": "Contact", "first_name": "Recall Officer", "email_ids": [{"email_id": address, "is_primary": 1}],
		 "links": [{"link_doctype": "Customer", "link_name": customer_a}]}
	).insert()
	frappe.db.set_value("Customer", customer_a, "customer_primary_contact", contact.name)
	emails = {customer: frappe.db.get_value("Customer", customer, "email_id") for customer, _address in plant.customers.values()}
	assert all(emails.values())
	return {**emails, customer_a: address}


def notified(recall):
	return signed_workflow_action(signed_workflow_action(recall, "Scope Recall"), "Mark Notified")


def queued(recall_name: str) -> list:
	return frappe.get_all(
		"Email Queue", filters={"reference_doctype": "Recall", "reference_name": recall_name}, fields=["name", "message"], order_by="creation"
	)


def recipients(queue: str) -> list[str]:
	return frappe.get_all("Email Queue Recipient", filters={"parent": queue}, pluck="recipient")


def attachment_rows(message: str) -> list[dict]:
	parts = [part for part in email.message_from_string(message).walk() if (part.get_filename() or "").endswith(".csv")]
	assert len(parts) == 1
	return list(csv.DictReader(io.StringIO(parts[0].get_payload(decode=True).decode("utf-8"))))


def html_body(message: str) -> str:
	part = next(part for part in email.message_from_string(message).walk() if part.get_content_type() == "text/html")
	return part.get_payload(decode=True).decode("utf-8")


def test_notifications_are_queued_per_customer_with_exactly_their_units(plant):
	emails = emails_of(plant)
	recall = notified(make_recall(plant, "RA"))
	assert recall.status == "Notified"
	(customer_a, address_a), (customer_b, address_b) = plant.customers["A"], plant.customers["B"]
	queues = queued(recall.name)
	assert len(queues) == 2
	by_recipient = {recipients(queue.name)[0]: queue for queue in queues}
	assert set(by_recipient) == {emails[customer_a], emails[customer_b]}

	for customer, address, case, delivery in ((customer_a, address_a, "K1", "DN-A"), (customer_b, address_b, "K2", "DN-B")):
		queue = by_recipient[emails[customer]]
		rows = attachment_rows(queue.message)
		assert [(row["Serial No"], row["Qty Delivered"], row["Qty Returned"], row["Delivery Note"]) for row in rows] == [
			(plant.name(case), "1", "0", plant.docs[delivery].name)
		]
		assert rows[0]["Shipping Address"].startswith(frappe.db.get_value("Address", address, "address_line1"))
		body = html_body(queue.message)
		assert plant.name(case) in body and plant.docs[delivery].name in body and recall.name in body
		other = plant.name("K2" if case == "K1" else "K1")
		assert other not in body and other not in str(rows)
		row = next(row for row in recall.customers if row.customer == customer)
		assert (row.notification_status, row.notification_email, row.email_queue) == ("Queued", emails[customer], queue.name)
		assert row.notified_on
	stored = frappe.get_doc("Recall", recall.name)
	assert {row.email_queue for row in stored.customers} == {queue.name for queue in queues}

	# Sending again queues a fresh email to each and records it.
	assert send_recall_notifications(recall.name) == 2
	assert len(queued(recall.name)) == 4
	stored.reload()
	assert not {row.email_queue for row in stored.customers} & {queue.name for queue in queues}


def test_a_customer_without_email_refuses_the_transition_naming_them(plant):
	customer_c = plant.customers["C"][0]
	frappe.db.set_value("Customer", customer_c, "email_id", None)
	recall = signed_workflow_action(make_recall(plant, "SA2"), "Scope Recall")
	assert customer_c in {row.customer for row in recall.customers}
	message = refusal(lambda: signed_workflow_action(recall, "Mark Notified"))
	assert "no email address" in message and customer_c in message
	assert plant.customers["A"][0] not in message
	assert queued(recall.name) == []
	assert frappe.db.get_value("Recall", recall.name, "status") == "Scoped"


@pytest.mark.requirement("MT-DRL-001")
def test_a_drill_records_what_it_would_send_and_sends_nothing(plant):
	emails = emails_of(plant)
	before = frappe.db.count("Email Queue")
	drill = notified(make_recall(plant, "RA", is_drill=1))
	assert frappe.db.count("Email Queue") == before
	assert {(row.customer, row.notification_status, row.notification_email, row.email_queue) for row in drill.customers} == {
		(customer, "Not Sent (Drill)", emails[customer], None) for customer in (plant.customers["A"][0], plant.customers["B"][0])
	}
	assert all(row.notified_on for row in drill.customers)
	assert send_recall_notifications(drill.name) == 2
	assert frappe.db.count("Email Queue") == before


def test_sending_again_needs_write_rights_and_a_notified_recall(plant, user_with_role):
	recall = make_recall(plant, "RA")
	assert "customers are notified from the Notified state" in refusal(lambda: send_recall_notifications(recall.name))
	with acting_as(user_with_role(WAREHOUSE_OPERATOR)), pytest.raises(frappe.PermissionError):
		send_recall_notifications(recall.name)
