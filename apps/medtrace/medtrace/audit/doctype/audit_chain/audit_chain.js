// Copyright (c) 2026, MedTrace and contributors
// For license information, please see license.txt

frappe.ui.form.on("Audit Chain", {
	onload(frm) {
		// A verification finishing in the background (Verify Now, the daily job) shows here without a reload.
		frappe.realtime.on("medtrace_audit_chain_verified", () => frm.reload_doc());
	},
	refresh(frm) {
		frm.disable_save();
		const indicator = { Intact: "green", Broken: "red" }[frm.doc.last_verification];
		if (indicator) {
			frm.page.set_indicator(__(frm.doc.last_verification), indicator);
		}
		frm.add_custom_button(__("Verify Now"), () =>
			frappe.call({ method: "medtrace.audit.audit_chain.verify_audit_chain_now" }).then(() =>
				frappe.show_alert({
					message: __("Verification started. Its result appears here; a broken chain alerts System Managers and Quality Approvers."),
					indicator: "blue",
				})
			)
		);
		frm.add_custom_button(__("Verify Against Checkpoint"), () => verify_against_checkpoint());
		frm.add_custom_button(__("Audit Trail"), () => frappe.set_route("query-report", "Audit Trail"));
	},
});

// The checkpoint comes from outside the database: the e-mail the Quality Approvers received, or an evidence PDF.
function verify_against_checkpoint() {
	frappe.prompt(
		[
			{ fieldname: "sequence", fieldtype: "Int", label: __("Checkpoint Entry"), reqd: 1 },
			{ fieldname: "entry_hash", fieldtype: "Data", label: __("Checkpoint Hash"), reqd: 1 },
		],
		(values) =>
			frappe.call({ method: "medtrace.audit.audit_chain.verify_against_checkpoint", args: values }).then(() =>
				frappe.show_alert({
					message: __("Verification against the checkpoint started. Its result appears here; a chain that differs alerts System Managers and Quality Approvers."),
					indicator: "blue",
				})
			),
		__("Verify Against Checkpoint"),
		__("Verify")
	);
}
