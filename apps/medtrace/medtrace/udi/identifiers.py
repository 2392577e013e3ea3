"""Validation of UDI device identifiers per issuing agency and of GS1 production identifiers."""

import re

import frappe
from biip.checksums import gs1_standard_check_digit
from frappe import _

GS1_CHARSET_82 = re.compile(r"^[!\"%&'()*+,\-./0-9:;<=>?A-Z_a-z]*$")
HIBC_CHARSET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-. $/+%"
HIBC_DI = re.compile(r"^[A-Z][A-Z0-9]{3}[A-Z0-9]{1,18}[0-9]$")
GS1_PI_MAX_LENGTH = 20


def normalise_gtin(value: str) -> str:
	"""GTIN-8/12/13 are carried in AI 01 as GTIN-14, left-padded with zeros."""
	return value.strip().zfill(14) if value.strip().isdigit() else value.strip()


def validate_gtin(gtin: str) -> None:
	if not gtin.isdigit() or len(gtin) not in (8, 12, 13, 14):
		frappe.throw(
			_("GTIN {0} must have 8, 12, 13 or 14 digits.").format(frappe.bold(gtin)),
			title=_("Invalid GTIN"),
		)
	expected = str(gs1_standard_check_digit(gtin[:-1]))
	if gtin[-1] != expected:
		frappe.throw(
			_("GTIN {0} has check digit {1}; it should be {2}.").format(frappe.bold(gtin), gtin[-1], expected),
			title=_("Invalid GTIN"),
		)


def hibc_check_character(data: str) -> str:
	"""Modulo 43 over every character including the leading '+'."""
	return HIBC_CHARSET[sum(HIBC_CHARSET.index(char) for char in data) % 43]


def validate_hibc_di(di: str) -> None:
	"""HIBC DI = labeler identification code (4 chars, first alphabetic) + product number + unit of measure."""
	if not HIBC_DI.match(di):
		frappe.throw(
			_(
				"HIBC device identifier {0} must be a 4-character labeler code starting with a letter, "
				"a product number of 1 to 18 letters or digits and a 1-digit unit of measure."
			).format(frappe.bold(di)),
			title=_("Invalid HIBC DI"),
		)


def validate_device_identifier(agency: str, di: str) -> str:
	"""Returns the DI in its canonical form for the agency, or throws."""
	if agency == "GS1":
		validate_gtin(di)
		return normalise_gtin(di)
	if agency == "HIBCC":
		di = di.upper()
		validate_hibc_di(di)
		return di
	if not re.fullmatch(r"[A-Za-z0-9.\-/+]{1,40}", di):
		frappe.throw(
			_("Device identifier {0} for {1} may use only letters, digits and . - / + (at most 40).").format(
				frappe.bold(di), agency
			),
			title=_("Invalid Device Identifier"),
		)
	return di


def validate_gs1_production_identifier(value: str, label: str) -> None:
	"""GS1 AI 10 (lot) and AI 21 (serial): up to 20 characters of GS1 character set 82."""
	if len(value) > GS1_PI_MAX_LENGTH:
		frappe.throw(
			_("{0} {1} is {2} characters long; GS1 allows at most {3}.").format(
				label, frappe.bold(value), len(value), GS1_PI_MAX_LENGTH
			),
			title=_("Invalid Production Identifier"),
		)
	if not GS1_CHARSET_82.match(value):
		frappe.throw(
			_("{0} {1} contains characters outside the GS1 character set (no spaces or accented letters).").format(
				label, frappe.bold(value)
			),
			title=_("Invalid Production Identifier"),
		)
