# Copyright (c) 2026, MedTrace and contributors
# For license information, please see license.txt

import frappe
from frappe.model.document import Document


class TraceLink(Document):
	# begin: auto-generated types
	# This code is auto-generated. Do not modify anything in this block.

	from typing import TYPE_CHECKING

	if TYPE_CHECKING:
		from frappe.types import DF

		address: DF.Link | None
		attributed_qty: DF.Float
		bom: DF.Link | None
		company: DF.Link | None
		direction: DF.Literal["", "In", "Out"]
		event: DF.Literal["Receipt", "Purchase Return", "Delivery", "Sales Return", "Material Receipt", "Material Issue", "Transfer", "Send to Subcontractor", "Subcontract Receipt", "Subcontract Return", "Production", "Consumption", "Reconciliation", "Opening Stock", "Manufacture", "Repack", "Disassemble", "Material Consumption for Manufacture", "Subcontracting"]
		from_item: DF.Link | None
		from_lot_node: DF.Data | None
		from_node: DF.Data | None
		from_warehouse: DF.Link | None
		is_return: DF.Check
		link_type: DF.Literal["Consumption", "Movement"]
		output_qty: DF.Float
		party: DF.DynamicLink | None
		party_type: DF.Link | None
		posting_datetime: DF.Datetime | None
		qty: DF.Float
		return_against: DF.DynamicLink | None
		to_item: DF.Link | None
		to_lot_node: DF.Data | None
		to_node: DF.Data | None
		to_warehouse: DF.Link | None
		voided: DF.Check
		voucher_detail_no: DF.Data | None
		voucher_no: DF.DynamicLink | None
		voucher_type: DF.Link | None
		work_order: DF.Link | None
	# end: auto-generated types

	# Written in bulk by medtrace.traceability.trace_links from the vouchers' Serial and Batch Bundles.


def on_doctype_update():
	# The trace engine looks links up by node end and kind, one level of the genealogy per query; a node's
	# movements also by event, to skip those its consumption links already show without reading them.
	frappe.db.add_index("Trace Link", ["from_node", "link_type", "voided", "event"])
	for column in ("from_lot_node", "to_node", "to_lot_node"):
		frappe.db.add_index("Trace Link", [column, "link_type", "voided"])
	frappe.db.add_index("Trace Link", ["voucher_type", "voucher_no"])
