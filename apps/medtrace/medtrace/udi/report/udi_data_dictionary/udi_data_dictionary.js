// Copyright (c) 2026, MedTrace and contributors
// For license information, please see license.txt

frappe.query_reports["UDI Data Dictionary"] = {
	filters: [
		{
			fieldname: "doctype",
			label: __("Document Type"),
			fieldtype: "Link",
			options: "DocType",
		},
		{
			fieldname: "source",
			label: __("Source"),
			fieldtype: "Select",
			options: ["", "MedTrace Doctype", "MedTrace Custom Field", "Site Custom Field", "ERPNext Standard Field"].map(
				(value) => ({ value, label: __(value) })
			),
		},
		{
			fieldname: "mandatory_only",
			label: __("Mandatory Only"),
			fieldtype: "Check",
		},
	],
};
