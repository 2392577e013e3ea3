# Copyright (c) 2026, MedTrace and contributors
# For license information, please see license.txt

"""Complaint Trends: complaints received per month, per UDI-DI and, under each, per lot, with a chart of
the UDI-DIs most complained about — where a rising count points at a lot or design to investigate."""

from collections import Counter, defaultdict

import frappe
from frappe import _
from frappe.utils import add_months, formatdate, get_first_day, getdate

from medtrace.utils.filters import EARLIEST_DAY, checked_date, checked_name, refuse

CHARTED_DEVICES = 10
# A column each.
MAX_MONTHS = 120


def execute(filters=None):
	filters = frappe._dict(filters or {})
	to_date = checked_date(filters.to_date, _("To Date")) or getdate()
	from_date = checked_date(filters.from_date, _("From Date")) or max(add_months(get_first_day(to_date), -11), EARLIEST_DAY)
	if from_date > to_date:
		refuse(_("From Date {0} is after To Date {1}.").format(formatdate(from_date), formatdate(to_date)))
	months = months_between(from_date, to_date)
	rows = trend_rows(complaints(filters, from_date, to_date), months)
	return columns(months), rows, None, chart(rows, months)


def months_between(from_date, to_date) -> list:
	first = get_first_day(from_date)
	count = (to_date.year - first.year) * 12 + to_date.month - first.month + 1
	if count > MAX_MONTHS:
		refuse(_("The report shows a column per month: choose at most {0} months, not {1}.").format(MAX_MONTHS, count))
	return [add_months(first, offset) for offset in range(count)]


def month_key(date) -> str:
	return f"m_{date:%Y_%m}"


def complaints(filters, from_date, to_date) -> list[dict]:
	"""The complaints the user may read, received in the date range."""
	conditions = {"received_on": ("between", [from_date, to_date])}
	for field, label in (("item", _("Item")), ("udi_device_identifier", _("UDI-DI"))):
		if value := checked_name(filters.get(field), label):
			conditions[field] = value
	return frappe.get_list(
		"Customer Complaint",
		filters=conditions,
		fields=["name", "received_on", "item", "udi_device_identifier", "batch_no"],
		order_by="received_on asc",
	)


def trend_rows(complaints: list[dict], months: list) -> list[dict]:
	"""One row per UDI-DI (or item, for devices without one) with its lots' rows under it."""
	devices = defaultdict(Counter)
	lots = defaultdict(lambda: defaultdict(Counter))
	items = {}
	for complaint in complaints:
		device = complaint.udi_device_identifier or complaint.item or ""
		items.setdefault(device, complaint.item)
		month = month_key(getdate(complaint.received_on))
		devices[device][month] += 1
		lots[device][complaint.batch_no or ""][month] += 1
	rows = []
	for device in sorted(devices, key=lambda d: (-sum(devices[d].values()), d)):
		rows.append(
			{
				"udi_device_identifier": device if device != items[device] else None,
				"item": items[device],
				"batch_no": None,
				"indent": 0,
				**counts(devices[device], months),
			}
		)
		for lot in sorted(lots[device], key=lambda lot: (-sum(lots[device][lot].values()), lot)):
			rows.append(
				{
					"udi_device_identifier": None,
					"item": items[device],
					"batch_no": lot or _("No lot"),
					"indent": 1,
					**counts(lots[device][lot], months),
				}
			)
	return rows


def counts(per_month: Counter, months: list) -> dict:
	return {**{month_key(month): per_month.get(month_key(month), 0) for month in months}, "total": sum(per_month.values())}


def columns(months: list) -> list[dict]:
	return [
		{"fieldname": "udi_device_identifier", "label": _("UDI-DI"), "fieldtype": "Link", "options": "UDI Device Identifier", "width": 160},
		{"fieldname": "item", "label": _("Item"), "fieldtype": "Link", "options": "Item", "width": 150},
		{"fieldname": "batch_no", "label": _("Lot"), "fieldtype": "Data", "width": 150},
		*({"fieldname": month_key(month), "label": formatdate(month, "MMM YYYY"), "fieldtype": "Int", "width": 90} for month in months),
		{"fieldname": "total", "label": _("Total"), "fieldtype": "Int", "width": 80},
	]


def chart(rows: list[dict], months: list) -> dict | None:
	devices = [row for row in rows if not row["indent"]][:CHARTED_DEVICES]
	if not devices:
		return None
	return {
		"data": {
			"labels": [formatdate(month, "MMM YYYY") for month in months],
			"datasets": [
				{"name": row["udi_device_identifier"] or row["item"] or _("Unidentified device"), "values": [row[month_key(m)] for m in months]}
				for row in devices
			],
		},
		"type": "bar",
		"barOptions": {"stacked": 1},
	}
