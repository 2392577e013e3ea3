// Package: scan units and packages in, take them out, unpack, print the logistics label
// (medtrace.packaging.packing, medtrace.packaging.labels).
frappe.ui.form.on("Package", {
	refresh(frm) {
		if (frm.is_new()) return;
		const live = ["Empty", "Packed"].includes(frm.doc.status);
		const scan = (title, method, label) =>
			frappe.prompt(
				[{ fieldname: "scans", fieldtype: "Small Text", label: __("Scanned Labels"), reqd: 1,
				   description: __("One label per line: a unit's UDI, or a package's SSCC or package UDI.") }],
				({ scans }) =>
					frappe.call({ method, args: { package: frm.doc.name, scans }, freeze: true }).then(() => frm.reload_doc()),
				title,
				label
			);
		if (live && frm.perm[0].write) {
			frm.add_custom_button(__("Pack"), () => scan(__("Pack"), "medtrace.packaging.packing.pack_scans", __("Pack")));
			if (frm.doc.status === "Packed") {
				frm.add_custom_button(__("Remove"), () => scan(__("Remove"), "medtrace.packaging.packing.remove_scans", __("Remove")));
				frm.add_custom_button(__("Unpack"), () =>
					frappe.confirm(__("Take everything out of package {0}? Its history is kept.", [frm.doc.name]), () =>
						frappe.call({ method: "medtrace.packaging.packing.unpack_package", args: { package: frm.doc.name }, freeze: true })
							.then(() => frm.reload_doc())
					)
				);
			}
		}
		if (frm.doc.status !== "Empty" && frappe.model.can_print("Package", frm)) {
			frm.add_custom_button(__("Print Label"), () =>
				open_url_post("/api/method/medtrace.packaging.labels.download_package_labels", { name: frm.doc.name, copies: 1, nested: 0 }, true)
			);
		}
		frm.add_custom_button(__("History"), () => frappe.set_route("List", "Package Event", { package: frm.doc.name }));
	},
});
