# Copyright (c) 2026, MedTrace and contributors
# For license information, please see license.txt

import frappe
from frappe.model.document import Document


class TraceNodeStock(Document):
	"""Written in bulk by medtrace.traceability.trace_links alongside the Trace Links, never as documents."""

	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		balance_qty: DF.Float
		node: DF.Data | None
		received_qty: DF.Float
		warehouse: DF.Link | None
	# end: auto-generated types


def on_doctype_update():
	# A trace reads the stock of all its lots at once.
	frappe.db.add_index("Trace Node Stock", ["node"])
