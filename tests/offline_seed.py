"""What an offline ERPNext test site lacks before documents can be submitted."""

import frappe
from medtrace.setup.demo import ensure_company, ensure_exchange_rates, ensure_fiscal_year

TEST_COMPANY = "MedTrace Test Devices Ltd."
TEST_ABBR = "MTD"
TEST_EMAIL_ACCOUNT = "MedTrace Test Outgoing"


def seed_offline_site() -> None:
	ensure_company(TEST_COMPANY, TEST_ABBR, "CNY", "China", "Asia/Shanghai")
	ensure_fiscal_year(TEST_COMPANY)
	ensure_exchange_rates()
	ensure_outgoing_email_account()


def ensure_outgoing_email_account() -> None:
	"""Recall notices are queued through the default outgoing account. Nothing sends the test site's Email
	Queue; a server other than localhost without authentication is not connected to when saved."""
	if frappe.db.exists("Email Account", TEST_EMAIL_ACCOUNT):
		return
	frappe.get_doc(
		{"doctype": "Email Account", "email_account_name": TEST_EMAIL_ACCOUNT, "email_id": "notifications@medtrace-test.example",
		 "enable_outgoing": 1, "default_outgoing": 1, "smtp_server": "smtp.medtrace-test.example", "no_smtp_authentication": 1}
	).insert(ignore_permissions=True)
