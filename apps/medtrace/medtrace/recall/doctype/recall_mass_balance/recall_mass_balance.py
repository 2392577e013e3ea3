# Copyright (c) 2026, MedTrace and contributors
# For license information, please see license.txt

from frappe.model.document import Document


class RecallMassBalance(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		balanced: DF.Check
		batch_no: DF.Link
		item: DF.Link | None
		parent: DF.Data
		parentfield: DF.Data
		parenttype: DF.Data
		qty_consumed: DF.Float
		qty_delivered: DF.Float
		qty_in_stock: DF.Float
		qty_received: DF.Float
		qty_returned: DF.Float
		qty_scrapped: DF.Float
		qty_unexplained: DF.Float
		stock_by_warehouse: DF.SmallText | None
	# end: auto-generated types
