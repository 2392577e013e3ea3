"""Values no field can hold, refused with a message (417) before any controller sees them.

A REST request or a Data Import can put a list or an object into a text field, text that is no date into a
date field, or NaN, infinity or 1e308 into a number. Frappe 15 hands such values on: controllers then fail on
them, and the database refuses them, both as server errors. Numbers sent for text are kept as the text the
database would make of them, and dates in another form Frappe reads are kept in the database's form."""

import datetime
import math

import frappe
from frappe import _
from frappe.utils import flt, get_datetime, getdate

from medtrace.utils.filters import labelled, refuse, shown

TEXT_FIELDTYPES = frozenset(
	{
		"Autocomplete", "Barcode", "Code", "Color", "Data", "Dynamic Link", "HTML Editor", "Link", "Long Text",
		"Markdown Editor", "Password", "Phone", "Read Only", "Select", "Small Text", "Text", "Text Editor",
	}
)
# What Frappe's default columns hold: decimal(21,9) and int(11) (a field with a length has a column of its own).
NUMBER_LIMITS = {"Currency": 1e12, "Float": 1e12, "Percent": 1e12, "Int": 2**31, "Check": 2**31}


def refuse_unusable_values(doc, method=None) -> None:
	"""before_validate of every doctype, for the record and its child rows."""
	for record in (doc, *doc.get_all_children()):
		for df in record.meta.fields:
			value = record.get(df.fieldname)
			if value is None or value == "":
				continue
			if df.fieldtype in TEXT_FIELDTYPES and not isinstance(value, str):
				record.set(df.fieldname, usable_text(value, df))
			elif df.fieldtype == "Date" and not isinstance(value, datetime.date):
				record.set(df.fieldname, date_text(value, df))
			elif df.fieldtype == "Datetime" and not isinstance(value, datetime.datetime):
				record.set(df.fieldname, datetime_text(value, df))
			elif df.fieldtype in NUMBER_LIMITS and not df.length and not storable_number(value, NUMBER_LIMITS[df.fieldtype]):
				unusable(value, df, _("{0} is not a number this field can hold."))


def usable_text(value, df):
	if isinstance(value, bool):
		return str(int(value))
	if isinstance(value, int | float):
		return str(value)
	if isinstance(value, list | tuple | dict | set):
		unusable(value, df, _("{0} is not text."))
	# What server code puts there (a fetched date, a Decimal) is left to Frappe.
	return value


def storable_number(value, limit: float) -> bool:
	# Frappe stores what flt makes of the value, text that is no number as 0.
	number = flt(value)
	return math.isfinite(number) and abs(number) < limit


def date_text(value, df) -> str:
	"""The date as the database takes it (YYYY-MM-DD), from any text Frappe reads as a date."""
	if isinstance(value, str):
		try:
			return datetime.date.fromisoformat(value).isoformat()
		except ValueError:
			day = parsed(getdate, value)
			if day:
				return day.isoformat()
	unusable(value, df, _("{0} is not a date."))


def datetime_text(value, df) -> str:
	"""The date and time as the database takes it, from any text Frappe reads as one."""
	if isinstance(value, str):
		try:
			datetime.datetime.fromisoformat(value)
			return value
		except ValueError:
			moment = parsed(get_datetime, value)
			if moment:
				return str(moment.replace(tzinfo=None))
	unusable(value, df, _("{0} is not a date and time."))


def parsed(parse, value: str) -> datetime.date | None:
	try:
		moment = parse(value)
	except frappe.ValidationError:
		# Frappe's own message would be shown beside this one.
		frappe.clear_last_message()
		return None
	except (ValueError, OverflowError):
		return None
	return moment if isinstance(moment, datetime.date) else None


def unusable(value, df, message: str) -> None:
	refuse(labelled(label(df), message.format(shown(value))), frappe.ValidationError, _("Invalid Value"))


def label(df) -> str:
	return _(df.label or df.fieldname)
