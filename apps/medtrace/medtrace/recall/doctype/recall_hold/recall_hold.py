# Copyright (c) 2026, MedTrace and contributors
# For license information, please see license.txt

import frappe
from frappe.model.document import Document


class RecallHold(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		batch_no: DF.Link | None
		item: DF.Link | None
		node: DF.Data
		recall: DF.Link
		released_on: DF.Datetime | None
		serial_no: DF.Link | None
		status: DF.Literal["Active", "Released"]
	# end: auto-generated types


def on_doctype_update():
	# One hold per recall and lot or serial, whoever places it and however often (medtrace.recall.holds).
	frappe.db.add_unique("Recall Hold", ["recall", "node"], constraint_name="unique_recall_hold")
