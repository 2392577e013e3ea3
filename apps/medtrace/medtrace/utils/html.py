"""Markup users enter is never taken as markup.

Print formats are autoescaped: values print as text unless a filter here vouches for them. And on save,
markup quoted as a JSON string gets the sanitising Frappe gives any other markup: Frappe's sanitiser
skips values that parse as JSON, which lets ``"<img src=x onerror=…>"`` (with the quotes) through into
every list, report and form that shows the field."""

import json

import frappe
from bs4 import BeautifulSoup
from frappe.utils.html_utils import sanitize_html
from markupsafe import Markup

# The fields Frappe leaves unsanitised on purpose.
UNSANITISED_FIELDTYPES = frozenset({"Attach", "Attach Image", "Barcode", "Code", "JSON"})


def rich_text(value: str | None) -> Markup:
	"""A Text Editor field's HTML, cleaned of scripts and event handlers. Always cleaned, even where saved
	before quoted markup was sanitised on save."""
	return Markup(sanitize_html(value or "", always_sanitize=True))


def sanitise_quoted_markup(doc, method=None) -> None:
	"""validate of every doctype, for the record and its child rows."""
	if frappe.flags.in_install:
		return
	for record in (doc, *doc.get_all_children()):
		for df in record.meta.fields:
			value = record.get(df.fieldname)
			if isinstance(value, str) and "<" in value and sanitised(df) and is_quoted_markup(value):
				record.set(df.fieldname, sanitize_html(value, always_sanitize=True))


def sanitised(df) -> bool:
	return not (
		df.get("ignore_xss_filter")
		or df.fieldtype in UNSANITISED_FIELDTYPES
		or (df.fieldtype in ("Data", "Small Text", "Text") and df.options == "Email")
	)


def is_quoted_markup(value: str) -> bool:
	"""A JSON string holding HTML tags: JSON objects and lists (a payload kept as received) are data."""
	try:
		decoded = json.loads(value)
	except ValueError:
		return False
	return isinstance(decoded, str) and bool(BeautifulSoup(decoded, "html.parser").find())
