"""Validation of UDI device identifiers per issuing agency, of GS1 production identifiers, and of the
characters any lot, serial or supplier lot number may hold."""

import re

import frappe
from biip.checksums import gs1_standard_check_digit
from frappe import _
from frappe.utils import escape_html

from medtrace.utils.bundles import bundle_entries

GS1_CHARSET_82 = re.compile(r"^[!\"%&'()*+,\-./0-9:;<=>?A-Z_a-z]*$")
HIBC_CHARSET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-. $/+%"
HIBC_DI = re.compile(r"^[A-Z][A-Z0-9]{3}[A-Z0-9]{1,18}[0-9]$")
GS1_PI_MAX_LENGTH = 20
# C0, DEL and C1: nobody can see them on a screen or a label or type them, so two numbers that differ only by
# one look the same, and the trace engine packs its rows with two of them (medtrace.traceability.engine).
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# JSON Schema pattern of text without them (the integration API's OpenAPI document); the GS a scanned label
# carries between its fields is allowed where a scan is.
TEXT_PATTERN = r"^[^\x00-\x1f\x7f-\x9f]*$"
SCAN_PATTERN = r"^[^\x00-\x1c\x1e\x1f\x7f-\x9f]*$"


class ControlCharacterError(frappe.ValidationError):
	pass


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


def control_characters(value: str) -> list[str]:
	"""The control characters in value, as U+XXXX."""
	return sorted({f"U+{ord(char):04X}" for char in CONTROL_CHARACTERS.findall(value)})


def shown_with_control_characters(value: str) -> str:
	return CONTROL_CHARACTERS.sub(lambda match: f"[U+{ord(match.group()):04X}]", value)


def refuse_control_characters(value, label: str) -> None:
	if isinstance(value, str) and CONTROL_CHARACTERS.search(value):
		frappe.throw(
			_("{0} {1} contains control characters ({2}); lot, serial and message numbers may hold only characters that can be seen and typed.").format(
				label, frappe.bold(escape_html(shown_with_control_characters(value))), ", ".join(control_characters(value))
			),
			ControlCharacterError,
			title=_("Invalid Identifier"),
		)


def check_lot_number_characters(doc, method=None) -> None:
	"""Batch validate: a new lot's number, and its supplier's lot number whenever it is entered."""
	if doc.is_new():
		refuse_control_characters(doc.name, _("Lot"))
		refuse_control_characters(doc.batch_id, _("Lot"))
	if doc.is_new() or doc.has_value_changed("medtrace_supplier_lot"):
		refuse_control_characters(doc.get("medtrace_supplier_lot"), _("Supplier Lot"))


def check_serial_number_characters(doc, method=None) -> None:
	"""Serial No validate."""
	if doc.is_new():
		refuse_control_characters(doc.name, _("Serial number"))
		refuse_control_characters(doc.serial_no, _("Serial number"))


def check_new_serial_and_batch_numbers(doc, method=None) -> None:
	"""Serial and Batch Bundle validate: a serial or lot number holding control characters does not come into
	stock for the first time. ERPNext creates the serial numbers and lots it is given (a voucher's serial and
	batch fields, the bundle dialog, a CSV upload) by bulk insert, without validating them, so their first
	movement into stock is where they are refused; those that moved before stay usable."""
	if doc.type_of_transaction != "Inward":
		return
	for row in doc.entries:
		for fieldname, label in (("serial_no", _("Serial number")), ("batch_no", _("Lot"))):
			value = row.get(fieldname)
			if value and CONTROL_CHARACTERS.search(value) and not moved_before(fieldname, value):
				refuse_control_characters(value, label)


def moved_before(fieldname: str, value: str) -> bool:
	query, bundle, entry = bundle_entries()
	return bool(query.select(entry.name).where((entry[fieldname] == value) & (bundle.docstatus == 1)).limit(1).run())
