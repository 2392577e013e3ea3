# Copyright (c) 2026, MedTrace and contributors
# For license information, please see license.txt

from frappe.model.document import Document


class RecallUnitTotal(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		parent: DF.Data
		parentfield: DF.Data
		parenttype: DF.Data
		qty_corrected: DF.Float
		qty_delivered: DF.Float
		qty_in_stock: DF.Float
		qty_returned: DF.Float
		qty_unaccounted: DF.Float
		stock_uom: DF.Link | None
	# end: auto-generated types

	pass
