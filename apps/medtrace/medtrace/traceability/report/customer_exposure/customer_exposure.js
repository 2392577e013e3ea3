// Copyright (c) 2026, MedTrace and contributors
// For license information, please see license.txt

frappe.query_reports["Customer Exposure"] = {
	filters: [
		{ fieldname: "batch", label: __("Batch"), fieldtype: "Link", options: "Batch" },
		{ fieldname: "supplier_lot", label: __("Supplier Lot"), fieldtype: "Data", description: __("Instead of a batch: every lot carrying the supplier's lot number.") },
		{ fieldname: "supplier", label: __("Supplier"), fieldtype: "Link", options: "Supplier", description: __("Instead of a batch: every lot received from the supplier; with a supplier lot, only its lots.") },
		{ fieldname: "received_from", label: __("Received From"), fieldtype: "Date" },
		{ fieldname: "received_to", label: __("Received To"), fieldtype: "Date" },
		{ fieldname: "supplied_item", label: __("Item Received"), fieldtype: "Link", options: "Item" },
		{ fieldname: "depth", label: __("Depth"), fieldtype: "Int", description: __("Levels to follow; empty for ten, or the Maximum Trace Depth if lower.") },
		{ fieldname: "from_date", label: __("From Date"), fieldtype: "Date" },
		{ fieldname: "to_date", label: __("To Date"), fieldtype: "Date" },
		{ fieldname: "customer", label: __("Customer"), fieldtype: "Link", options: "Customer" },
	],
};
