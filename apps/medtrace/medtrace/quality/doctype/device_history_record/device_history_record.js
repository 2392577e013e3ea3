// Copyright (c) 2026, MedTrace and contributors
// For license information, please see license.txt

frappe.ui.form.on("Device History Record", {
	refresh(frm) {
		if (frm.doc.status === "Released") {
			// Fields were drawn before this handler: drawn again read-only, tables lose Add Row and row editing.
			frm.set_read_only();
			frm.refresh_fields();
			frm.disable_save();
			medtrace.esignature.show_signatures(frm);
		} else {
			frm.add_custom_button(__("Refresh"), () =>
				frappe.call({ method: "medtrace.quality.dhr.refresh_device_history_record", args: { name: frm.doc.name } }).then(() =>
					frm.reload_doc()
				)
			);
		}
		if (frm.doc.status === "Complete" && frappe.user.has_role("MedTrace Quality Approver")) {
			frm.add_custom_button(__("Release"), () =>
				medtrace.esignature
					.sign({
						title: __("Release {0}", [frm.doc.name]),
						meaning: "Released",
						method: "medtrace.quality.dhr.release_device_history_record",
						args: { name: frm.doc.name },
					})
					.then(() => frm.reload_doc())
			).addClass("btn-primary");
		}
		frm.add_custom_button(__("Evidence PDF"), () => {
			window.open(
				frappe.urllib.get_full_url(
					`/api/method/medtrace.quality.dhr.download_dhr_pdf?name=${encodeURIComponent(frm.doc.name)}`
				)
			);
		});
		const indicator = { Open: "orange", Complete: "blue", Released: "green" }[frm.doc.status];
		frm.page.set_indicator(__(frm.doc.status), indicator);
		if (frm.doc.missing && frm.doc.status !== "Released") {
			frm.dashboard.set_headline_alert(
				`<div class="text-warning">${__("Missing for release")}: ${frappe.utils.escape_html(frm.doc.missing).replace(/\n/g, "<br>")}</div>`
			);
		}
	},
});
