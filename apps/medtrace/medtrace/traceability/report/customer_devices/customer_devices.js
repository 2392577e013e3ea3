// Copyright (c) 2026, MedTrace and contributors
// For license information, please see license.txt

frappe.query_reports["Customer Devices"] = {
	filters: [
		{ fieldname: "customer", label: __("Customer"), fieldtype: "Link", options: "Customer", reqd: 1 },
		{ fieldname: "depth", label: __("Depth"), fieldtype: "Int", description: __("Levels to follow; empty for ten, or the Maximum Trace Depth if lower.") },
		{ fieldname: "item", label: __("Item"), fieldtype: "Link", options: "Item", description: __("Only devices of this item.") },
		{ fieldname: "held_only", label: __("Still Held Only"), fieldtype: "Check" },
	],
};
