"""What an offline ERPNext test site lacks before documents can be submitted."""

from medtrace.setup.demo import (
	ensure_company,
	ensure_exchange_rates,
	ensure_fiscal_year,
	ensure_outgoing_email_account,
)

TEST_COMPANY = "MedTrace Test Devices Ltd."
TEST_ABBR = "MTD"
TEST_EMAIL_ACCOUNT = "MedTrace Test Outgoing"


def seed_offline_site() -> None:
	ensure_company(TEST_COMPANY, TEST_ABBR, "CNY", "China", "Asia/Shanghai")
	ensure_fiscal_year(TEST_COMPANY)
	ensure_exchange_rates()
	# Recall notices are queued through it; nothing sends the test site's Email Queue.
	ensure_outgoing_email_account(TEST_EMAIL_ACCOUNT, "notifications@medtrace-test.example", "smtp.medtrace-test.example")
