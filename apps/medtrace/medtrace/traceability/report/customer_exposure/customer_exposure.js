// Copyright (c) 2026, MedTrace and contributors
// For license information, please see license.txt

frappe.query_reports["Customer Exposure"] = {
	filters: [
		{ fieldname: "batch", label: __("Batch"), fieldtype: "Link", options: "Batch", reqd: 1 },
		{ fieldname: "depth", label: __("Depth"), fieldtype: "Int", description: __("Levels to follow; empty for ten, or the Maximum Trace Depth if lower.") },
		{ fieldname: "from_date", label: __("From Date"), fieldtype: "Date" },
		{ fieldname: "to_date", label: __("To Date"), fieldtype: "Date" },
		{ fieldname: "customer", label: __("Customer"), fieldtype: "Link", options: "Customer" },
	],
};
