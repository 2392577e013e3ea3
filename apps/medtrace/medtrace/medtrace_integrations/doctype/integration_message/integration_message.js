// Copyright (c) 2026, MedTrace and contributors
// For license information, please see license.txt

frappe.ui.form.on("Integration Message", {
	refresh(frm) {
		const indicator = { Queued: "blue", Processed: "green", Failed: "red", Retrying: "orange", Rejected: "red" }[frm.doc.status];
		frm.page.set_indicator(__(frm.doc.status), indicator);
		const documents = JSON.parse(frm.doc.created_documents || "[]");
		if (documents.length) {
			const links = documents.map(
				({ doctype, name }) => `${__(doctype)} ${frappe.utils.get_form_link(doctype, name, true, frappe.utils.escape_html(name))}`
			);
			frm.set_intro(__("Created: {0}", [links.join(", ")]), "green");
		}
		if (["Failed", "Rejected"].includes(frm.doc.status)) {
			frm.add_custom_button(__("Replay"), () =>
				frappe
					.call({ method: "medtrace.medtrace_integrations.inbound.replay_message", args: { name: frm.doc.name }, freeze: true })
					.then(() => frm.reload_doc())
			);
		}
	},
});
