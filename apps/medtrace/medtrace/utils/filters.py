"""Filter values of reports and traces, and the arguments of whitelisted methods, as HTTP brings them — text,
numbers, lists, JSON objects, anything — checked before they reach a query, a date computation or a
document: what is not a usable value is refused with a message naming it (417), never left to fail as a
server error."""

import datetime
import json

import frappe
from frappe import _
from frappe.utils import add_days, escape_html, getdate

# A day inside the database's date range on either side, so that the day after a period's end, or a time in
# any time zone, is still a date.
EARLIEST_DAY, LATEST_DAY = datetime.date(1000, 1, 2), datetime.date(9999, 12, 30)
# Longer text is no date (dateutil reads a thousand digits as a year, and overflows).
LONGEST_DATE_TEXT = 40
SHOWN_LENGTH = 60


class FilterError(frappe.ValidationError):
	pass


def refuse(message: str, exception=FilterError, title: str | None = None) -> None:
	frappe.throw(message, exception, title=title or _("Invalid Filter"))


def shown(value) -> str:
	"""A refused value as a message shows it: escaped, and cut short."""
	text = value if isinstance(value, str) else json.dumps(value, default=str)
	return frappe.bold(escape_html(text if len(text) <= SHOWN_LENGTH else text[:SHOWN_LENGTH] + "…"))


def labelled(label: str | None, message: str) -> str:
	return f"{label}: {message}" if label else message


def checked_date(
	value, label: str | None = None, exception=FilterError, title: str | None = None
) -> datetime.date | None:
	"""A date (a date, or text Frappe reads as one) within the dates MedTrace works with; None for none."""
	if value is None or value == "":
		return None
	day = None
	if isinstance(value, datetime.datetime):
		day = value.date()
	elif isinstance(value, datetime.date):
		day = value
	elif isinstance(value, str) and len(value) <= LONGEST_DATE_TEXT:
		try:
			day = getdate(value)
		except frappe.ValidationError:
			# Frappe's own message would be shown too.
			frappe.clear_last_message()
		except (ValueError, OverflowError):
			pass
	if day is None:
		refuse(labelled(label, _("{0} is not a date.").format(shown(value))), exception, title)
	if not EARLIEST_DAY <= day <= LATEST_DAY:
		refuse(
			labelled(
				label,
				_("{0} is outside the dates MedTrace works with, {1} to {2}.").format(
					shown(value), EARLIEST_DAY, LATEST_DAY
				),
			),
			exception,
			title,
		)
	return day


def checked_period(filters, default_days: int) -> tuple[datetime.date, datetime.date]:
	"""A report's from_date and to_date: by default the default_days up to today."""
	to_date = checked_date(filters.get("to_date"), _("To Date")) or getdate()
	from_date = checked_date(filters.get("from_date"), _("From Date")) or max(
		add_days(to_date, 1 - default_days), EARLIEST_DAY
	)
	if from_date > to_date:
		refuse(_("From Date {0} is after To Date {1}.").format(from_date, to_date))
	return from_date, to_date


def checked_name(value, label: str | None = None) -> str | None:
	"""One record's name; None for none."""
	if value is None or value == "":
		return None
	if not isinstance(value, str):
		refuse(labelled(label, _("{0} is not a name.").format(shown(value))))
	return value


def checked_names(
	value, label: str | None = None, exception=FilterError, title: str | None = None
) -> frozenset:
	"""One name, a list of names, or a JSON list of names (as a query string carries one)."""
	if value is None or value == "" or value == []:
		return frozenset()
	if isinstance(value, str) and value.lstrip().startswith("["):
		try:
			value = json.loads(value)
		except ValueError:
			refuse(
				labelled(label, _("{0} is neither a name nor a JSON list of names.").format(shown(value))),
				exception,
				title,
			)
	names = value if isinstance(value, list | tuple | set | frozenset) else [value]
	# Item codes may be numbers, and arrive as such in JSON.
	if not all(isinstance(name, str | int) and not isinstance(name, bool) for name in names):
		refuse(
			labelled(label, _("{0} is not a name or a list of names.").format(shown(value))), exception, title
		)
	return frozenset(str(name) for name in names if name != "")


def checked_object(value, label: str | None = None) -> dict:
	"""A JSON object: a dictionary, or text holding one (as a form or query string carries one)."""
	if isinstance(value, str):
		try:
			value = json.loads(value)
		except ValueError:
			pass
	if not isinstance(value, dict):
		refuse(labelled(label, _("{0} is not a JSON object.").format(shown(value))), title=_("Invalid Value"))
	return value


def checked_doctype(value, label: str | None = None) -> str:
	"""The name of a DocType of this site."""
	if not isinstance(value, str) or not value or not frappe.db.exists("DocType", value):
		refuse(labelled(label, _("{0} is not a document type.").format(shown(value))), title=_("Invalid Value"))
	return value
