# Copyright (c) 2026, MedTrace and contributors
# For license information, please see license.txt

from frappe.model.document import Document


class RecallAffectedUnit(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		address: DF.Link | None
		batch_no: DF.Link | None
		customer: DF.Link | None
		delivery_doctype: DF.Link | None
		delivery_note: DF.DynamicLink | None
		item: DF.Link | None
		parent: DF.Data
		parentfield: DF.Data
		parenttype: DF.Data
		qty_delivered: DF.Float
		qty_in_stock: DF.Float
		qty_returned: DF.Float
		serial_no: DF.Link | None
		stock_uom: DF.Link | None
		warehouse: DF.Link | None
	# end: auto-generated types
