// Copyright (c) 2026, MedTrace and contributors
// For license information, please see license.txt

frappe.ui.form.on("Change Request", {
	refresh(frm) {
		if (!frm.is_new() && frm.doc.docstatus === 0) {
			frm.add_custom_button(__("Assess Impact"), () =>
				frappe
					.xcall("medtrace.quality.doctype.change_request.change_request.assess_change_request_impact", { name: frm.doc.name })
					.then((added) => {
						frappe.show_alert({ message: __("{0} dependent records added", [added]), indicator: added ? "green" : "blue" });
						frm.reload_doc();
					})
			);
		}
	},
});
