// Separation of duties (medtrace/signatures/separation_of_duties.py): on the form of a document in a workflow,
// the actions of its present state the user may not take because of an earlier part they took, and why.
$(document).on("form-refresh", (event, frm) => {
	if (frm.is_new() || !frappe.workflow.workflows[frm.doctype]) return;
	frappe
		.xcall("medtrace.signatures.separation_of_duties.get_duty_restrictions", { doctype: frm.doctype, name: frm.doc.name })
		.then((restrictions) => {
			for (const { action, message } of restrictions) {
				frm.dashboard.add_comment(
					`<b>${__("Separation of duties")}</b> · ${__(action)}: ${frappe.utils.escape_html(message)}`,
					"yellow",
					true
				);
			}
		});
});
