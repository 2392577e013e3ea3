// Copyright (c) 2026, MedTrace and contributors
// For license information, please see license.txt

frappe.query_reports["Mock Recall Drill History"] = {
	filters: [
		{ fieldname: "from_date", label: __("From Date"), fieldtype: "Date", default: frappe.datetime.add_days(frappe.datetime.get_today(), -364) },
		{ fieldname: "to_date", label: __("To Date"), fieldtype: "Date", default: frappe.datetime.get_today() },
	],
};
