# Copyright (c) 2026, MedTrace and contributors
# For license information, please see license.txt

from frappe.model.document import Document


class UDIMarketRiskClass(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		market: DF.Literal["US FDA", "EU MDR", "EU IVDR", "China NMPA", "Other"]
		parent: DF.Data
		parentfield: DF.Data
		parenttype: DF.Data
		risk_class: DF.Data
	# end: auto-generated types

	pass
