// Copyright (c) 2026, MedTrace and contributors
// For license information, please see license.txt

frappe.query_reports["Where-Used"] = {
	filters: [
		{ fieldname: "batch", label: __("Component Lot"), fieldtype: "Link", options: "Batch" },
		{ fieldname: "supplier_lot", label: __("Supplier Lot"), fieldtype: "Data", description: __("Instead of a lot: every lot carrying the supplier's lot number.") },
		{ fieldname: "supplier", label: __("Supplier"), fieldtype: "Link", options: "Supplier", description: __("With a supplier lot: only the lots received from this supplier.") },
		{ fieldname: "depth", label: __("Depth"), fieldtype: "Int", description: __("Levels to follow; empty for ten, or the Maximum Trace Depth if lower.") },
		{ fieldname: "from_date", label: __("From Date"), fieldtype: "Date" },
		{ fieldname: "to_date", label: __("To Date"), fieldtype: "Date" },
		{ fieldname: "item", label: __("Product Item"), fieldtype: "Link", options: "Item" },
		{ fieldname: "end_products_only", label: __("End Products Only"), fieldtype: "Check" },
	],
};
