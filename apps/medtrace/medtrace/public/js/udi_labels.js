// "Print UDI Labels" on Batch and Stock Entry forms: their labels as one PDF, one label per page
// (medtrace.udi.labels.download_labels). Loaded with both forms' code, so it registers only once.
frappe.provide("medtrace");

if (!medtrace.udi_labels) {
	medtrace.udi_labels = {
		refresh(frm) {
			if (frm.is_new() || !frappe.model.can_print(frm.doctype, frm)) return;
			const labelled =
				frm.doctype === "Batch"
					? frm.doc.udi_element_string
					: frm.doc.docstatus === 1 && ["Manufacture", "Repack", "Material Receipt"].includes(frm.doc.purpose);
			if (labelled) {
				frm.add_custom_button(__("Print UDI Labels"), () => medtrace.udi_labels.download(frm));
			}
		},
		download(frm) {
			frappe.prompt(
				[{ fieldname: "copies", fieldtype: "Int", label: __("Copies of Each Label"), default: 1, reqd: 1 }],
				({ copies }) =>
					open_url_post(
						"/api/method/medtrace.udi.labels.download_labels",
						{ doctype: frm.doctype, name: frm.doc.name, copies },
						true
					),
				__("Print UDI Labels"),
				__("Download PDF")
			);
		},
	};
	frappe.ui.form.on("Batch", { refresh: (frm) => medtrace.udi_labels.refresh(frm) });
	frappe.ui.form.on("Stock Entry", { refresh: (frm) => medtrace.udi_labels.refresh(frm) });
}
