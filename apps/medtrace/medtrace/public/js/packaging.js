// Packages on stock documents (medtrace.packaging): "Pack into Cases" on a submitted Manufacture, Repack or
// Material Receipt, and "Add Packages" on a draft Delivery Note, which scans cases and pallets onto it.
frappe.provide("medtrace");

if (!medtrace.packaging_forms) {
	medtrace.packaging_forms = {
		stock_entry(frm) {
			const produced = frm.doc.docstatus === 1 && ["Manufacture", "Repack", "Material Receipt"].includes(frm.doc.purpose);
			if (!produced || !frappe.model.can_create("Package")) return;
			frm.add_custom_button(__("Pack into Cases"), () =>
				frappe.prompt(
					[
						{ fieldname: "udi_device_identifier", fieldtype: "Link", options: "UDI Device Identifier", label: __("Case UDI-DI"),
						  get_query: () => ({ filters: { packaging_level: ["!=", "Base Unit"], status: "Released" } }) },
						{ fieldname: "units_per_case", fieldtype: "Int", label: __("Units per Case"),
						  description: __("Empty: the quantity the case UDI-DI holds.") },
						{ fieldname: "cases_per_pallet", fieldtype: "Int", label: __("Cases per Pallet"), default: 0,
						  description: __("0: no pallets.") },
					],
					(values) =>
						frappe
							.call({ method: "medtrace.packaging.production.pack_stock_entry", args: { stock_entry: frm.doc.name, ...values }, freeze: true })
							.then(({ message }) =>
								frappe.msgprint(
									__("{0} cases and {1} pallets packed.", [message.cases.length, message.pallets.length])
								)
							),
					__("Pack into Cases"),
					__("Pack")
				)
			);
		},
		delivery_note(frm) {
			if (frm.doc.docstatus !== 0) return;
			frm.add_custom_button(__("Add Packages"), () =>
				frappe.prompt(
					[{ fieldname: "scans", fieldtype: "Small Text", label: __("Scanned Packages"), reqd: 1,
					   description: __("One SSCC or package label per line: every unit inside is delivered.") }],
					({ scans }) =>
						frappe
							.call({ method: "medtrace.packaging.shipping.add_packages_to_delivery_note", args: { delivery_note: frm.doc, scans }, freeze: true })
							.then(({ message }) => {
								frappe.model.sync(message);
								frm.refresh();
								frm.dirty();
							}),
					__("Add Packages"),
					__("Add")
				)
			);
		},
	};
	frappe.ui.form.on("Stock Entry", { refresh: (frm) => medtrace.packaging_forms.stock_entry(frm) });
	frappe.ui.form.on("Delivery Note", { refresh: (frm) => medtrace.packaging_forms.delivery_note(frm) });
}
