// Copyright (c) 2026, MedTrace and contributors
// For license information, please see license.txt

frappe.query_reports["Serial History"] = {
	filters: [
		{ fieldname: "serial_no", label: __("Serial No"), fieldtype: "Link", options: "Serial No", reqd: 1 },
		{ fieldname: "from_date", label: __("From Date"), fieldtype: "Date" },
		{ fieldname: "to_date", label: __("To Date"), fieldtype: "Date" },
	],
};
