"""Recall notifications: one email per affected customer, from the Email Template "Recall Notification",
with the units that customer received listed in the body and attached as CSV.

A recall notice must reach every customer, so a customer without an email address refuses the whole
notification (and the workflow action that asked for it) naming them, rather than leaving them out
silently. A drill sends nothing but records, per customer, what it would have sent and to whom."""

import csv
import io
import re

import frappe
from frappe import _
from frappe.contacts.doctype.address.address import get_address_display
from frappe.utils import flt, now_datetime, strip_html

TEMPLATE = "Recall Notification"
QUEUED, NOT_SENT_DRILL = "Queued", "Not Sent (Drill)"
NOTIFICATION_FIELDS = ("notification_status", "notified_on", "notification_email", "email_queue")
# From "Notified" until the recall is closed, customers may be notified again.
NOTIFIED_STATES = ("Notified", "In Progress", "Effectiveness Check")


def notify_customers(recall) -> int:
	"""Queue (or, for a drill, only record) the notification of every customer; returns how many."""
	recipients = {row.customer: recipient_email(row.customer) for row in recall.customers}
	missing = [customer for customer, email in recipients.items() if not email]
	if missing:
		frappe.throw(
			_(
				"Recall {0} cannot notify these customers, who have no email address (on their primary contact or on the "
				"customer): {1}. Add one to each and notify again; no customer was notified."
			).format(recall.name, ", ".join(frappe.bold(customer) for customer in missing)),
			title=_("Customers Without Email"),
		)
	template = frappe.get_doc("Email Template", TEMPLATE)
	notified_on = now_datetime()
	# One notice per customer, also when the customer has a row per unit of measure.
	queued = {}
	for row in recall.customers:
		values = {"notified_on": notified_on, "notification_email": recipients[row.customer]}
		if recall.is_drill:
			values.update(notification_status=NOT_SENT_DRILL, email_queue=None)
		else:
			if row.customer not in queued:
				queued[row.customer] = queue_notification(recall, row.customer, recipients[row.customer], template)
			values.update(notification_status=QUEUED, email_queue=queued[row.customer])
		row.update(values)
		frappe.db.set_value(row.doctype, row.name, values, update_modified=False)
	if recipients:
		recall.add_comment(
			"Info",
			(_("Drill: recall notifications recorded, none sent, for {0}") if recall.is_drill else _("Recall notifications queued for {0}")).format(
				", ".join(f"{customer} <{email}>" for customer, email in recipients.items())
			),
		)
	return len(recipients)


def recipient_email(customer: str) -> str | None:
	"""The email address of the customer's primary contact, else the one on the customer."""
	values = frappe.db.get_value("Customer", customer, ["customer_primary_contact", "email_id"], as_dict=True) or {}
	if values.get("customer_primary_contact"):
		email = frappe.db.get_value("Contact", values["customer_primary_contact"], "email_id")
		if email:
			return email
	return values.get("email_id") or None


def customer_units(recall, customer: str) -> list[dict]:
	"""The affected units delivered to the customer, one per lot or serial and delivery."""
	addresses = {}
	units = []
	for unit in recall.affected_units:
		if unit.customer != customer:
			continue
		if unit.address and unit.address not in addresses:
			addresses[unit.address] = one_line(get_address_display(unit.address) or unit.address)
		units.append(
			{
				"item": unit.item,
				"item_name": frappe.db.get_value("Item", unit.item, "item_name", cache=True),
				"batch_no": unit.batch_no or "",
				"serial_no": unit.serial_no or "",
				"qty_delivered": flt(unit.qty_delivered),
				"qty_returned": flt(unit.qty_returned),
				"uom": unit.stock_uom or "",
				"delivery_note": unit.delivery_note or "",
				"address": addresses.get(unit.address, ""),
			}
		)
	return units


def one_line(address_html: str) -> str:
	return ", ".join(part.strip() for part in strip_html(re.sub(r"<br\s*/?>", "\n", address_html)).splitlines() if part.strip())


def units_csv(units: list[dict]) -> str:
	out = io.StringIO()
	writer = csv.writer(out)
	writer.writerow(
		[_("Item"), _("Item Name"), _("Lot"), _("Serial No"), _("Qty Delivered"), _("Qty Returned"), _("UOM"), _("Delivery Note"), _("Shipping Address")]
	)
	for unit in units:
		writer.writerow(
			[unit["item"], unit["item_name"], unit["batch_no"], unit["serial_no"], f"{unit['qty_delivered']:g}",
			 f"{unit['qty_returned']:g}", unit["uom"], unit["delivery_note"], unit["address"]]
		)
	return out.getvalue()


def queue_notification(recall, customer: str, email: str, template) -> str:
	units = customer_units(recall, customer)
	context = {
		"recall": recall,
		"customer": customer,
		"customer_name": frappe.db.get_value("Customer", customer, "customer_name") or customer,
		"units": units,
	}
	queue = frappe.sendmail(
		recipients=[email],
		subject=frappe.render_template(template.subject, context),
		message=frappe.render_template(template.response_html if template.use_html else template.response, context),
		# A separate CSV per customer: what they must look for in their own stock, in a file they can filter.
		attachments=[{"fname": attachment_name(recall.name, customer), "fcontent": units_csv(units)}],
		reference_doctype="Recall",
		reference_name=recall.name,
		add_unsubscribe_link=0,
	)
	if not queue:
		frappe.throw(
			_("The notification of recall {0} to {1} ({2}) could not be queued.").format(recall.name, customer, email),
			title=_("Notification Not Queued"),
		)
	return queue.name


def attachment_name(recall: str, customer: str) -> str:
	return re.sub(r"[^\w.-]+", "-", f"{recall}-{customer}").strip("-") + ".csv"


@frappe.whitelist(methods=["POST"])
def send_recall_notifications(name: str) -> int:
	"""Notify every customer of the recall again; returns how many were notified."""
	recall = frappe.get_doc("Recall", name)
	recall.check_permission("write")
	if recall.status not in NOTIFIED_STATES:
		frappe.throw(
			_("Recall {0} is {1}: customers are notified from the Notified state until the recall is closed.").format(
				name, _(recall.status)
			),
			title=_("Recall Not Notified"),
		)
	return notify_customers(recall)
