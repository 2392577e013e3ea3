// Copyright (c) 2026, MedTrace and contributors
// For license information, please see license.txt

frappe.ui.form.on("Data Quality Rule", {
	setup(frm) {
		frappe
			.call({ method: "medtrace.quality.data_quality.get_registered_checks" })
			.then((r) => {
				frm.registered_checks = r.message || [];
				frm.set_df_property(
					"check_function",
					"options",
					frm.registered_checks.map((check) => ({ value: check.value, label: check.value, description: check.description }))
				);
			});
	},

	refresh(frm) {
		frm.add_custom_button(__("Set Filters"), () => frm.trigger("edit_filters"));
		if (!frm.is_new()) {
			frm.add_custom_button(__("Exceptions"), () =>
				frappe.set_route("List", "Data Quality Exception", { rule: frm.doc.name, status: "Open" })
			);
			if (frm.doc.enabled && frm.perm[0].write) {
				frm.add_custom_button(__("Run Now"), () => frm.trigger("run_now"));
			}
		}
	},

	check_function(frm) {
		const check = (frm.registered_checks || []).find((c) => c.value === frm.doc.check_function);
		if (check && !frm.doc.document_type) {
			frm.set_value("document_type", check.doctype);
		}
	},

	edit_filters(frm) {
		if (!frm.doc.document_type) {
			frappe.msgprint(__("Choose the Document Type to Check first."));
			return;
		}
		const dialog = new frappe.ui.Dialog({
			title: __("Filters"),
			fields: [{ fieldtype: "HTML", fieldname: "filter_area" }],
			primary_action_label: __("Set"),
			primary_action() {
				const filters = filter_group.get_filters();
				frm.set_value("filters_json", filters.length ? JSON.stringify(filters) : "");
				dialog.hide();
			},
		});
		const filter_group = new frappe.ui.FilterGroup({
			parent: dialog.get_field("filter_area").$wrapper,
			doctype: frm.doc.document_type,
			on_change: () => {},
		});
		if (frm.doc.filters_json) {
			filter_group.add_filters_to_filter_group(JSON.parse(frm.doc.filters_json));
		}
		dialog.show();
	},

	run_now(frm) {
		frappe
			.call({
				method: "medtrace.quality.data_quality.run_rule_now",
				args: { rule: frm.doc.name },
				freeze: true,
				freeze_message: __("Checking records…"),
			})
			.then((r) => {
				const result = r.message;
				frappe.msgprint(
					__("{0} records flagged: {1} exceptions opened, {2} closed.", [result.violations, result.opened, result.closed]),
					__("Data Quality")
				);
				frm.reload_doc();
			});
	},
});
