// Copyright (c) 2026, MedTrace and contributors
// For license information, please see license.txt

frappe.query_reports["Complaint Trends"] = {
	filters: [
		{ fieldname: "from_date", label: __("From Date"), fieldtype: "Date", default: frappe.datetime.add_months(frappe.datetime.month_start(), -11) },
		{ fieldname: "to_date", label: __("To Date"), fieldtype: "Date", default: frappe.datetime.get_today() },
		{ fieldname: "item", label: __("Item"), fieldtype: "Link", options: "Item" },
		{ fieldname: "udi_device_identifier", label: __("UDI-DI"), fieldtype: "Link", options: "UDI Device Identifier" },
	],
	formatter(value, row, column, data, default_formatter) {
		// Frappe's Data formatter prints the value as markup: a lot number as a complaint recorded it is text.
		value = default_formatter(column.fieldtype === "Data" ? frappe.utils.escape_html(value) : value, row, column, data);
		// A UDI-DI's row totals its lots' rows below it.
		return data && !data.indent ? `<b>${value}</b>` : value;
	},
};
