"""Builders for the ERPNext and MedTrace documents tests need, inserted through the document API."""

from contextlib import contextmanager

import frappe
from biip.checksums import gs1_standard_check_digit
from frappe.utils import add_to_date, now_datetime

from bench_tool import ADMIN_PASSWORD
from offline_seed import TEST_COMPANY

# Test users sign electronically with this password; Administrator with the test site's.
SIGNING_PASSWORD = "Sign-Here-2026!"

# Users a test must commit (to log in over HTTP, to sign from parallel requests, for the worker) are named in
# a domain of their own, so that the suite can disable those of earlier runs when it starts: piled up, they
# would become the recipients of what goes to a role, and Frappe hands mail to more than 100 recipients to a
# background job instead of queuing it at once.
COMMITTED_USER_DOMAIN = "committed.medtrace-test.example"


def committed_user(tag: str, roles) -> str:
	"""A new user of this run holding the roles, inserted and committed; its name."""
	user = frappe.get_doc(
		{"doctype": "User", "email": f"{tag}-{frappe.generate_hash(length=6)}@{COMMITTED_USER_DOMAIN}", "first_name": tag.title(),
		 "send_welcome_email": 0, "roles": [{"role": role} for role in roles]}
	).insert(ignore_permissions=True)
	frappe.db.commit()
	return user.name


def disable_committed_users_of_earlier_runs() -> None:
	# Those made over an hour ago, longer than a whole run takes: a session nested in a running one (the OQ run
	# of test_validation_run) leaves the running one's users alone.
	User = frappe.qb.DocType("User")
	frappe.qb.update(User).set(User.enabled, 0).where(
		User.name.like(f"%@{COMMITTED_USER_DOMAIN}") & (User.enabled == 1) & (User.creation < add_to_date(now_datetime(), hours=-1))
	).run()
	frappe.db.commit()


def unique_gtin() -> str:
	"""A valid GTIN-14 under a test company prefix, different on every call."""
	body = "0695999" + str(frappe.db.sql("select floor(rand() * 1000000)")[0][0]).split(".")[0].zfill(6)
	return body + str(gs1_standard_check_digit(body))


def make_item(**overrides) -> "frappe.Document":
	item_code = overrides.pop("item_code", None) or f"MT-TEST-{frappe.generate_hash(length=8).upper()}"
	item = frappe.new_doc("Item")
	item.update(
		{
			"item_code": item_code,
			"item_name": item_code,
			"item_group": "Products",
			"stock_uom": "Nos",
			"is_stock_item": 1,
			**overrides,
		}
	)
	return item.insert(ignore_permissions=True)


def make_device_identifier(**overrides) -> "frappe.Document":
	item = overrides.pop("item", None) or make_item(has_batch_no=1, create_new_batch=1).name
	di = frappe.new_doc("UDI Device Identifier")
	di.update(
		{
			"udi_di": unique_gtin(),
			"issuing_agency": "GS1",
			"item": item,
			"brand_name": "TestBrand",
			"labeler": TEST_COMPANY,
			**overrides,
		}
	)
	return di.insert()


def default_warehouse() -> str:
	return frappe.db.get_value("Warehouse", {"company": TEST_COMPANY, "warehouse_name": "Stores"})


def receive_stock(item_code: str, qty: float, **row) -> "frappe.Document":
	"""A submitted Material Receipt: ERPNext creates the batches and serial numbers it needs."""
	entry = frappe.new_doc("Stock Entry")
	entry.update({"stock_entry_type": "Material Receipt", "company": TEST_COMPANY})
	entry.append("items", {"item_code": item_code, "qty": qty, "t_warehouse": default_warehouse(), "basic_rate": 10, **row})
	entry.insert()
	entry.submit()
	return entry


def make_customer(name: str | None = None) -> str:
	name = name or f"MT Test Hospital {frappe.generate_hash(length=6)}"
	if not frappe.db.exists("Customer", name):
		frappe.get_doc({"doctype": "Customer", "customer_name": name, "customer_type": "Company"}).insert()
	return name


def make_delivery(customer: str, item_code: str, qty: float, warehouse: str, submit: bool = True, doctype: str = "Delivery Note", **row):
	"""A Delivery Note — or a Sales Invoice that updates stock — of serials / a batch given through the row's
	old-style serial_no / batch_no fields."""
	note = frappe.new_doc(doctype)
	note.update({"customer": customer, "company": TEST_COMPANY, "currency": "CNY", "conversion_rate": 1})
	if doctype == "Sales Invoice":
		note.update_stock = 1
	note.append("items", {"item_code": item_code, "qty": qty, "rate": 100, "warehouse": warehouse, "use_serial_batch_fields": 1, **row})
	note.insert()
	if submit:
		note.submit()
	return note


def make_integration_system(system_type: str, roles) -> frappe._dict:
	"""An Integration System with its own API user and key, committed so the web server and worker see it."""
	from frappe.core.doctype.user.user import generate_keys

	user = committed_user(system_type.lower(), roles)
	secret = generate_keys(user)["api_secret"]
	api_key = frappe.db.get_value("User", user, "api_key")
	system = frappe.get_doc(
		{"doctype": "Integration System", "system_name": f"{system_type} {frappe.generate_hash(length=6)}", "system_type": system_type, "api_user": user,
		 "company": TEST_COMPANY, "default_warehouse": default_warehouse()}
	).insert()
	frappe.db.commit()
	return frappe._dict(name=system.name, token=f"token {api_key}:{secret}", api_user=user)


def can_sign(user: str) -> str:
	"""Give a test user the password they sign with."""
	from frappe.utils.password import update_password

	update_password(user, SIGNING_PASSWORD)
	return user


def signed_workflow_action(doc, action: str, password: str | None = None, **credentials):
	"""A workflow action as the Desk applies it, signed by the session's user where it needs a signature."""
	from medtrace.signatures.esignature import apply_workflow

	if password is None:
		password = ADMIN_PASSWORD if frappe.session.user == "Administrator" else SIGNING_PASSWORD
	return apply_workflow(doc, action, password=password, **credentials)


def released(di):
	"""A UDI-DI taken through its release workflow: submitted, then approved by signature."""
	return signed_workflow_action(signed_workflow_action(di, "Submit for Approval"), "Approve")


@contextmanager
def acting_as(user: str):
	"""The session's user for the block; Administrator, what the tests act as, again afterwards."""
	frappe.set_user(user)
	try:
		yield user
	finally:
		frappe.set_user("Administrator")
