// Copyright (c) 2026, MedTrace and contributors
// For license information, please see license.txt

frappe.ui.form.on("Audit Chain", {
	refresh(frm) {
		frm.disable_save();
		const indicator = { Intact: "green", Broken: "red" }[frm.doc.last_verification];
		if (indicator) {
			frm.page.set_indicator(__(frm.doc.last_verification), indicator);
		}
		frm.add_custom_button(__("Verify Now"), () =>
			frappe.call({ method: "medtrace.quality.audit_chain.verify_audit_chain_now" }).then(() =>
				frappe.show_alert({
					message: __("Verification started. Its result appears here; a broken chain alerts System Managers and Quality Approvers."),
					indicator: "blue",
				})
			)
		);
		frm.add_custom_button(__("Audit Trail"), () => frappe.set_route("query-report", "Audit Trail"));
	},
});
