// Copyright (c) 2026, MedTrace and contributors
// For license information, please see license.txt

frappe.ui.form.on("Customer Complaint", {
	refresh(frm) {
		const identified = frm.doc.batch_no || frm.doc.serial_no;
		if (!frm.is_new() && identified && !frm.doc.recall && frappe.model.can_create("Recall")) {
			frm.add_custom_button(__("Create Recall"), () => create_recall(frm));
		}
		if (frm.doc.recall) {
			frm.add_custom_button(__("Recall"), () => frappe.set_route("Form", "Recall", frm.doc.recall), __("View"));
		}
	},
});

function create_recall(frm) {
	frappe.prompt(
		[
			{
				fieldname: "classification",
				label: __("Classification"),
				fieldtype: "Select",
				options: ["Class I", "Class II", "Class III", "Field Safety Corrective Action"],
				default: frm.doc.patient_involvement === "Death" || frm.doc.patient_involvement === "Injury" ? "Class I" : "Class II",
				reqd: 1,
			},
		],
		(values) =>
			frappe
				.xcall("medtrace.recall.doctype.customer_complaint.customer_complaint.create_recall", {
					name: frm.doc.name,
					classification: values.classification,
				})
				.then((recall) => frappe.set_route("Form", "Recall", recall)),
		__("Create Recall"),
		__("Create")
	);
}
