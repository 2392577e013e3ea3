// Copyright (c) 2026, MedTrace and contributors
// For license information, please see license.txt

frappe.ui.form.on("Validation Run", {
	refresh(frm) {
		if (frm.is_new()) {
			frm.set_intro(__("Saving the run checks this site's installation (IQ): versions, every MedTrace file against the release manifest, and the settings Part 11 relies on."));
			return;
		}
		const approved = frm.doc.status === "Approved";
		frm.page.set_indicator(__(frm.doc.status), approved ? "green" : frm.doc.iq_result === "Fail" || frm.doc.oq_result === "Fail" ? "red" : "orange");
		if (approved) {
			frm.set_read_only();
			frm.disable_save();
		} else if (frm.perm[0]?.write) {
			frm.add_custom_button(__("Import OQ Result"), () =>
				new frappe.ui.FileUploader({
					doctype: frm.doctype,
					docname: frm.doc.name,
					restrictions: { allowed_file_types: [".json"] },
					on_success: (file) =>
						frappe
							.call({ method: "medtrace.validation.runs.import_oq_result", args: { name: frm.doc.name, file_url: file.file_url }, freeze: true })
							.then(() => frm.reload_doc()),
				})
			);
		}
		if (!approved && frappe.user.has_role("MedTrace Quality Approver")) {
			frm.add_custom_button(__("Approve"), () =>
				medtrace.esignature
					.sign({
						title: __("Approve {0}", [frm.doc.name]),
						meaning: "Approved",
						method: "medtrace.validation.runs.approve_validation_run",
						args: { name: frm.doc.name },
					})
					.then(() => frm.reload_doc())
			).addClass("btn-primary");
		}
		frm.add_custom_button(__("Validation Report PDF"), () =>
			window.open(frappe.urllib.get_full_url(`/api/method/medtrace.validation.runs.download_validation_report?name=${encodeURIComponent(frm.doc.name)}`))
		);
		medtrace.esignature.show_signatures(frm);
	},
});
