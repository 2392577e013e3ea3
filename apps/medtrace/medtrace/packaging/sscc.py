"""Serial Shipping Container Codes (GS1 General Specifications §2.2.1, AI 00): extension digit, GS1 Company
Prefix, serial reference and a mod-10 check digit, 18 digits in all.

Serial references come from one counter per extension digit and company prefix in Frappe's tabSeries,
advanced with the same locking upsert as the lot and serial coding rules, so two packers never share an
SSCC and a number once given is never given again — not after its package is unpacked or deleted (GS1
forbids reusing an SSCC for at least a year; MedTrace never reuses one)."""

import re

import frappe
from biip.checksums import gs1_standard_check_digit
from frappe import _

from medtrace.udi.coding_rules import advance_sequence

SSCC_LENGTH = 18
SSCC_COUNTER_PREFIX = "MEDTRACE-SSCC-"


def sscc_check_digit(body: str) -> str:
	"""The check digit of the first 17 digits."""
	return str(gs1_standard_check_digit(body))


def is_valid_sscc(value: str) -> bool:
	return bool(re.fullmatch(r"\d{18}", value or "")) and value[-1] == sscc_check_digit(value[:-1])


def validate_sscc(value: str) -> None:
	if not re.fullmatch(r"\d{18}", value or ""):
		frappe.throw(_("SSCC {0} must be exactly 18 digits.").format(frappe.bold(value)), title=_("Invalid SSCC"))
	expected = sscc_check_digit(value[:-1])
	if value[-1] != expected:
		frappe.throw(
			_("SSCC {0} has check digit {1}; it should be {2}.").format(frappe.bold(value), value[-1], expected),
			title=_("Invalid SSCC"),
		)


def build_sscc(extension_digit: str, company_prefix: str, serial_reference: int) -> str:
	digits = 16 - len(company_prefix)
	if serial_reference >= 10**digits:
		frappe.throw(
			_(
				"GS1 Company Prefix {0} with extension digit {1} has used all {2}-digit serial references. "
				"Choose another SSCC extension digit in MedTrace Settings."
			).format(company_prefix, extension_digit, digits),
			title=_("SSCCs Exhausted"),
		)
	body = f"{extension_digit}{company_prefix}{str(serial_reference).zfill(digits)}"
	return body + sscc_check_digit(body)


def sscc_settings() -> tuple[str, str]:
	settings = frappe.get_cached_doc("MedTrace Settings")
	if not settings.gs1_company_prefix:
		frappe.throw(
			_("Set the GS1 Company Prefix in MedTrace Settings before packages get SSCCs."),
			title=_("No GS1 Company Prefix"),
		)
	return str(settings.sscc_extension_digit or 0), settings.gs1_company_prefix


def next_sscc() -> str:
	extension_digit, company_prefix = sscc_settings()
	serial_reference = advance_sequence(f"{SSCC_COUNTER_PREFIX}{extension_digit}{company_prefix}", 1)
	return build_sscc(extension_digit, company_prefix, serial_reference)
