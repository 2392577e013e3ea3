// Copyright (c) 2026, MedTrace and contributors
// For license information, please see license.txt

frappe.ui.form.on("UDI Device Identifier", {
	setup(frm) {
		frm.set_query("contained_di", (doc) => ({
			filters: { name: ["!=", doc.name], status: ["!=", "Obsolete"] },
		}));
		frm.set_query("item", () => ({ filters: { is_stock_item: 1, disabled: 0 } }));
	},

	refresh(frm) {
		if (!frm.is_new()) {
			frm.add_custom_button(__("Batches"), () => frappe.set_route("List", "Batch", { udi_device_identifier: frm.doc.name }), __("View"));
			frm.add_custom_button(__("Serial Nos"), () =>
				frappe.set_route("List", "Serial No", { udi_device_identifier: frm.doc.name }), __("View"));
		}
	},

	issuing_agency(frm) {
		// The DI format differs per agency; say so before the user types one.
		const hints = {
			GS1: __("GTIN-14, e.g. 06951234500016 (shorter GTINs are padded with zeros)"),
			HIBCC: __("Labeler code + product number + unit of measure, e.g. A123BJC5D6E71"),
		};
		frm.set_df_property("udi_di", "description", hints[frm.doc.issuing_agency] || "");
	},
});
