"""Scan and resolve: any label scan (GS1 element string, GS1 Digital Link, HIBC, or a bare lot/serial)
is interpreted and resolved to the Item, UDI-DI, Batch and Serial No MedTrace knows.

GS1 data is parsed by biip; HIBC (which biip lacks) by the small parser in this module. Malformed input
is answered with a validation error naming what is wrong; well-formed input that MedTrace cannot (fully)
match is answered with a status and a message, because that is a result the operator must see.
"""

import datetime
import re
from dataclasses import dataclass, field

import frappe
from biip import ParseError, parse
from biip.gs1_digital_link_uris import GS1DigitalLinkURI
from biip.gs1_messages import GS1Message
from frappe import _
from frappe.utils import getdate, strip_html

from medtrace.udi.identifiers import HIBC_CHARSET, hibc_check_character, normalise_gtin, validate_gtin

MAX_SCAN_LENGTH = 512
GROUP_SEPARATOR = "\x1d"
# Keyboard-wedge scanners are often configured to type FNC1 as one of these.
GROUP_SEPARATOR_PLACEHOLDERS = ("<GS>", "{GS}", "^]")
SYMBOLOGY_IDENTIFIER = re.compile(r"^\][A-Za-z][0-9A-Za-z]")
AI_TITLES = {"01": "GTIN", "10": "Lot", "11": "Manufacturing Date", "17": "Expiry Date", "21": "Serial Number"}


class ScanError(frappe.ValidationError):
	pass


INPUT_FORMATS = {
	"gs1": "GS1 element string",
	"gs1_hri": "GS1 human-readable",
	"digital_link": "GS1 Digital Link",
	"hibc": "HIBC",
	"identifier": "Lot, serial number or UDI-DI",
}


@dataclass
class ScannedUDI:
	input_format: str  # a key of INPUT_FORMATS
	identifier: str | None = None  # a bare value that still has to be looked up
	di: str | None = None
	lot: str | None = None
	serial: str | None = None
	expiry_date: datetime.date | None = None
	manufacture_date: datetime.date | None = None
	fields: list[dict] = field(default_factory=list)

	def add_field(self, key: str, label: str, value) -> None:
		self.fields.append({"key": key, "label": label, "value": str(value)})


def reject(message: str) -> None:
	frappe.throw(message, ScanError, title=_("Unreadable Scan"))


@frappe.whitelist()
def resolve_scan(scan: str) -> dict:
	frappe.has_permission("UDI Device Identifier", "read", throw=True)
	return resolve(scan)


@frappe.whitelist()
def scan_label(scan: str) -> dict:
	"""UDI Scan's call: at a scanning station an unreadable label is one more result in a row of scans, answered
	like the others, not an error dialog that takes the focus from the next scan."""
	frappe.has_permission("UDI Device Identifier", "read", throw=True)
	try:
		return resolve(scan)
	except frappe.ValidationError as error:
		frappe.clear_last_message()
		return {
			"status": "unreadable",
			"message": strip_html(str(error)),
			"input_format": "",
			"fields": [],
			"warnings": [],
		}


def resolve(scan) -> dict:
	"""A package label (SSCC, package UDI) resolves to the package and everything inside it
	(medtrace.packaging.scan); any other label to its item, UDI-DI, lot and serial number."""
	from medtrace.packaging.scan import resolve_package_scan

	return resolve_package_scan(scan) or resolve_scanned_udi(interpret_scan(scan))


def interpret_scan(scan) -> ScannedUDI:
	if not isinstance(scan, str) or not scan.strip():
		reject(_("Nothing was scanned."))
	if len(scan) > MAX_SCAN_LENGTH:
		reject(_("The scan is {0} characters long; a UDI carrier holds at most {1}.").format(len(scan), MAX_SCAN_LENGTH))
	text = scan.strip("\r\n\t ")
	for placeholder in GROUP_SEPARATOR_PLACEHOLDERS:
		text = text.replace(placeholder, GROUP_SEPARATOR)
	payload = SYMBOLOGY_IDENTIFIER.sub("", text)
	if re.match(r"^https?://", payload, re.IGNORECASE):
		return interpret_digital_link(payload)
	if payload.startswith("+"):
		return interpret_hibc(payload)
	if payload.startswith("("):
		return interpret_gs1_hri(payload)
	# A UDI element string starts with AI 01; a symbology identifier or FNC1 also marks GS1 data.
	if payload != text or GROUP_SEPARATOR in payload or (payload.startswith("01") and len(payload) >= 16):
		return interpret_gs1_element_string(text)
	scanned = ScannedUDI(input_format="identifier", identifier=payload)
	scanned.add_field("identifier", _("Identifier"), payload)
	return scanned


def interpret_gs1_element_string(text: str) -> ScannedUDI:
	try:
		result = parse(text)
	except (ParseError, ValueError) as error:
		# biip raises ValueError for a symbology identifier it does not know (e.g. "]V0").
		reject(_("The scan is not a GS1 code MedTrace can read ({0}).").format(str(error)[:120]))
	if result.gs1_message is None:
		reject(explain_gs1_error(result.gs1_message_error or "", text))
	return scanned_from_gs1(result.gs1_message.element_strings, "gs1")


def interpret_gs1_hri(text: str) -> ScannedUDI:
	try:
		message = GS1Message.parse_hri(text)
	except ParseError as error:
		reject(explain_gs1_hri_error(text, str(error)))
	return scanned_from_gs1(message.element_strings, "gs1_hri")


def interpret_digital_link(uri: str) -> ScannedUDI:
	try:
		link = GS1DigitalLinkURI.parse(uri)
	except ParseError as error:
		reject(_("Not a valid GS1 Digital Link: {0}").format(explain_gs1_error(str(error), uri)))
	return scanned_from_gs1(link.element_strings, "digital_link")


def scanned_from_gs1(element_strings, input_format: str) -> ScannedUDI:
	scanned = ScannedUDI(input_format=input_format)
	for element in element_strings:
		ai = element.ai.ai
		scanned.add_field(ai, f"({ai}) " + _(AI_TITLES.get(ai, element.ai.data_title)), element.value)
		if ai == "01":
			if element.gtin_error:
				validate_gtin(element.value)  # throws the precise check-digit message
			scanned.di = normalise_gtin(element.value)
		elif ai == "10":
			scanned.lot = element.value
		elif ai == "21":
			scanned.serial = element.value
		elif ai == "17":
			scanned.expiry_date = element.date
		elif ai == "11":
			scanned.manufacture_date = element.date
	if not scanned.di:
		reject(_("The GS1 code has no GTIN (AI 01), so it does not identify a device."))
	return scanned


def explain_gs1_error(biip_error: str, text: str) -> str:
	"""Turn biip's technical parse error into what the operator can act on."""
	mismatch = re.search(r"Failed to match '(\d+?)(.*)' with GS1 AI \((\d+)\)", biip_error)
	if mismatch:
		ai = mismatch.group(3)
		value = mismatch.group(1)[len(ai) :] + mismatch.group(2)
		return explain_bad_element(ai, value)
	leftover = re.search(r"Failed to get GS1 Application Identifier from '(.*)'", biip_error, re.DOTALL)
	if leftover:
		return _(
			"The data {0} is not a GS1 Application Identifier: a lot or serial number longer than 20 characters, "
			"a missing FNC1 separator after a lot or serial, or a misplaced FNC1."
		).format(frappe.bold(leftover.group(1)[:40].replace(GROUP_SEPARATOR, "<GS>")))
	return _("The scan is not a GS1 code MedTrace can read ({0}).").format(biip_error or text[:40])


def explain_bad_element(ai: str, value: str) -> str:
	if ai in ("11", "17"):
		label = _("Expiry date") if ai == "17" else _("Manufacturing date")
		return _("{0} (AI {1}) {2} is not a valid YYMMDD date.").format(label, ai, frappe.bold(value))
	if ai == "01":
		return _(
			"The GTIN (AI 01) must be exactly 14 digits, but {0} follows it; an FNC1 separator may be misplaced inside it."
		).format(frappe.bold(value.replace(GROUP_SEPARATOR, "<GS>")))
	if ai in ("10", "21"):
		label = _("Lot") if ai == "10" else _("Serial number")
		return _("{0} (AI {1}) {2} must be 1 to 20 characters of the GS1 character set.").format(label, ai, frappe.bold(value))
	return _("AI ({0}) has an invalid value {1}.").format(ai, frappe.bold(value))


def explain_gs1_hri_error(text: str, biip_error: str) -> str:
	"""biip reports a bad HRI as a whole; check each (AI)value pair to name the faulty one."""
	for ai, value in re.findall(r"\((\d{2,4})\)([^(]*)", text):
		if ai in ("10", "21") and (len(value) > 20 or not re.fullmatch(r"[!\"%&'()*+,\-./0-9:;<=>?A-Z_a-z]+", value)):
			return explain_bad_element(ai, value)
		if ai in ("11", "17") and not valid_yymmdd(value):
			return explain_bad_element(ai, value)
		if ai == "01" and not re.fullmatch(r"\d{14}", value):
			return explain_bad_element(ai, value)
	return _("The scan is not a GS1 code MedTrace can read ({0}).").format(biip_error)


def valid_yymmdd(value: str) -> bool:
	if not re.fullmatch(r"\d{6}", value):
		return False
	month, day = int(value[2:4]), int(value[4:6])
	# GS1: day 00 means the last day of the month.
	return 1 <= month <= 12 and (day == 0 or is_real_date(2000 + int(value[:2]), month, day))


def is_real_date(year: int, month: int, day: int) -> bool:
	try:
		datetime.date(year, month, day)
	except ValueError:
		return False
	return True


def interpret_hibc(text: str) -> ScannedUDI:
	"""HIBC primary (+LIC PCN U), optionally concatenated with secondary data after '/', then a mod-43 check."""
	if any(char not in HIBC_CHARSET for char in text):
		reject(_("The HIBC code contains characters HIBC does not allow (only A-Z, 0-9, - . space $ / + %)."))
	if len(text) < 3:
		reject(_("The HIBC code is too short."))
	data, check = text[:-1], text[-1]
	expected = hibc_check_character(data)
	if check != expected:
		reject(_("The HIBC check character is {0}; it should be {1}. The label may be damaged or misprinted.").format(check, expected))

	scanned = ScannedUDI(input_format="hibc")
	primary, *secondary = data[1:].split("/")
	if primary.startswith("$"):
		secondary = [primary, *secondary]  # a secondary-only code: lot/serial without the DI
	else:
		if not re.fullmatch(r"[A-Z][A-Z0-9]{3}[A-Z0-9]{1,18}[0-9]", primary):
			reject(_("HIBC primary data {0} must be a 4-character labeler code, a product number and a unit-of-measure digit.").format(frappe.bold(primary)))
		scanned.di = primary
		scanned.add_field("di", _("Labeler + Product + Unit of Measure"), primary)
	for part in secondary:
		read_hibc_secondary(part, scanned)
	return scanned


def read_hibc_secondary(part: str, scanned: ScannedUDI) -> None:
	if part.startswith("$"):
		is_serial = part.startswith(("$+", "$$+"))
		body = part.lstrip("$").removeprefix("+") if is_serial else part.lstrip("$")
		if part.startswith("$$"):
			body = read_hibc_expiry(body, scanned)
		if is_serial:
			scanned.serial = body
			scanned.add_field("serial", _("Serial Number"), body)
		else:
			scanned.lot = body
			scanned.add_field("lot", _("Lot"), body)
	elif part.startswith("S"):
		scanned.serial = part[1:]
		scanned.add_field("serial", _("Serial Number"), part[1:])
	elif part.startswith(("16D", "14D")) and len(part) == 11:
		date = parse_date(part[3:], "%Y%m%d", part)
		if part.startswith("16D"):
			scanned.manufacture_date = date
			scanned.add_field("manufacture", _("Manufacturing Date"), date)
		else:
			scanned.expiry_date = date
			scanned.add_field("expiry", _("Expiry Date"), date)
	else:
		reject(_("HIBC secondary data {0} is in a format MedTrace does not read.").format(frappe.bold(part)))


def read_hibc_expiry(body: str, scanned: ScannedUDI) -> str:
	"""'$$' data starts with a date whose format a flag digit gives (3 = YYMMDD, 2 = MMDDYY, 7 = none);
	without a flag it is MMYY."""
	formats = {"2": ("%m%d%y", 6), "3": ("%y%m%d", 6), "4": ("%y%m%d", 8), "7": (None, 0)}
	if body[:1] in formats:
		date_format, length = formats[body[0]]
		date_text, rest = body[1 : 1 + length], body[1 + length :]
		if date_format:
			scanned.expiry_date = parse_date(date_text[:6], date_format, body)
	else:
		date_text, rest = body[:4], body[4:]
		scanned.expiry_date = parse_date("01" + date_text, "%d%m%y", body)
	if scanned.expiry_date:
		scanned.add_field("expiry", _("Expiry Date"), scanned.expiry_date)
	return rest


def parse_date(value: str, date_format: str, context: str) -> datetime.date:
	try:
		return datetime.datetime.strptime(value, date_format).date()
	except ValueError:
		reject(_("The date in HIBC data {0} is not valid.").format(frappe.bold(context)))


# What a scan's status tells the operator; only "resolved" means the label is complete and agrees with the record.
SCAN_STATUSES = ("resolved", "incomplete", "mismatch", "partially resolved", "inconsistent", "unknown", "ambiguous")
# The production identifiers a UDI-DI's label carries (its label_* checks), as the scan names them.
LABEL_IDENTIFIERS = (
	("label_lot", "lot", "a lot / batch number (AI 10)"),
	("label_serial", "serial", "a serial number (AI 21)"),
	("label_expiry_date", "expiry_date", "an expiry date (AI 17)"),
	("label_manufacture_date", "manufacture_date", "a manufacturing date (AI 11)"),
)


def resolve_scanned_udi(scanned: ScannedUDI) -> dict:
	if scanned.identifier:
		return resolve_bare_identifier(scanned)
	result = {
		"input_format": _(INPUT_FORMATS[scanned.input_format]),
		"fields": scanned.fields,
		"udi_device_identifier": None,
		"item": None,
		"batch": None,
		"serial_no": None,
		"warnings": [],
	}
	device = None
	if scanned.di:
		device = frappe.db.get_value(
			"UDI Device Identifier", scanned.di,
			["name", "item", "status", *(check for check, _key, _label in LABEL_IDENTIFIERS)], as_dict=True,
		)
		if not device:
			return {**result, "status": "unknown", "message": _("UDI-DI {0} is not registered in MedTrace.").format(scanned.di)}
		result.update(udi_device_identifier=device.name, item=device.item)
		if device.status != "Released":
			result["warnings"].append(_("UDI-DI {0} is {1}, not released.").format(device.name, _(device.status)))

	disagreements = []
	for doctype, value, key in (("Batch", scanned.lot, "batch"), ("Serial No", scanned.serial, "serial_no")):
		if not value:
			continue
		record = find_record(doctype, value)
		if not record:
			result["warnings"].append(_("{0} {1} is not in MedTrace.").format(_(doctype), value))
			continue
		if result["item"] and record.item != result["item"]:
			return {
				**result,
				"status": "inconsistent",
				"message": _("{0} {1} belongs to item {2}, not to item {3} of UDI-DI {4}: check the label.").format(
					_(doctype), value, record.item, result["item"], scanned.di
				),
			}
		result[key] = record.name
		result["item"] = result["item"] or record.item
		result["udi_device_identifier"] = result["udi_device_identifier"] or record.udi_device_identifier
		disagreements += label_disagreements(scanned, record)

	result["item_name"] = result["item"] and frappe.db.get_value("Item", result["item"], "item_name")
	found_all = all(result[key] for key, value in (("batch", scanned.lot), ("serial_no", scanned.serial)) if value)
	if not (found_all and result["item"]):
		return {**result, "status": "partially resolved", "message": _("Only part of the scan is known to MedTrace.")}
	if disagreements:
		return {
			**result,
			"status": "mismatch",
			"message": _("The label disagrees with the record: {0} Check the label: it may be misprinted or not genuine.").format(
				" ".join(disagreements)
			),
		}
	missing = missing_label_identifiers(scanned, device)
	if missing:
		return {
			**result,
			"status": "incomplete",
			"message": _("The label lacks {0}, which UDI-DI {1} requires on its label.").format(
				", ".join(missing), device.name
			),
		}
	return {
		**result,
		"status": "resolved",
		"message": _("Resolved to {0}.").format(", ".join(filter(None, (result["item"], result["batch"], result["serial_no"])))),
	}


def missing_label_identifiers(scanned: ScannedUDI, device) -> list[str]:
	"""The production identifiers the DI's label carries that the scanned label does not (only a label that
	names its DI can be checked; a bare lot or serial number is not a label)."""
	if not device or scanned.input_format == "identifier":
		return []
	return [_(label) for check, key, label in LABEL_IDENTIFIERS if device.get(check) and not getattr(scanned, key)]


def find_record(doctype: str, name: str):
	if not frappe.has_permission(doctype, "read"):
		return None
	fields = (
		["name", "item", "expiry_date", "manufacturing_date as manufacture_date", "udi_device_identifier"]
		if doctype == "Batch"
		else ["name", "item_code as item", "udi_expiry_date as expiry_date", "udi_manufacture_date as manufacture_date", "udi_device_identifier"]
	)
	return frappe.db.get_value(doctype, name, fields, as_dict=True)


def label_disagreements(scanned: ScannedUDI, record) -> list[str]:
	"""A label whose dates disagree with the record points at a mislabel or counterfeit."""
	disagreements = []
	for key, label in (("expiry_date", _("expiry date")), ("manufacture_date", _("manufacturing date"))):
		on_label, recorded = getattr(scanned, key), record.get(key)
		if on_label and recorded and on_label != getdate(recorded):
			disagreements.append(
				_("The label's {0} {1} differs from {2} recorded for {3}.").format(label, on_label, recorded, record.name)
			)
	return disagreements


def resolve_bare_identifier(scanned: ScannedUDI) -> dict:
	value = scanned.identifier
	matches = [
		{"doctype": doctype, "name": value}
		for doctype in ("Serial No", "Batch", "UDI Device Identifier")
		if frappe.has_permission(doctype, "read") and frappe.db.exists(doctype, value)
	]
	if not matches:
		reject(
			_("{0} is not a GS1, HIBC or Digital Link code and matches no serial number, batch or UDI-DI.").format(
				frappe.bold(value)
			)
		)
	if len(matches) > 1:
		return {
			"input_format": _(INPUT_FORMATS[scanned.input_format]),
			"fields": scanned.fields,
			"status": "ambiguous",
			"candidates": matches,
			"message": _("{0} matches several records: {1}. Scan the full UDI instead.").format(
				value, ", ".join(_(match["doctype"]) for match in matches)
			),
			"warnings": [],
		}
	key = {"UDI Device Identifier": "di", "Batch": "lot", "Serial No": "serial"}[matches[0]["doctype"]]
	return resolve_scanned_udi(ScannedUDI(input_format="identifier", fields=scanned.fields, **{key: value}))
