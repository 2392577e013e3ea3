// Electronic signatures (medtrace/signatures/esignature.py): the dialog every signed act uses, the signature
// prompt of workflow actions whose transition names a meaning, and the signatures shown on the form.
frappe.provide("medtrace.esignature");

// Ask for the credentials and call `method` with them added to `args`. Resolves with the method's result.
medtrace.esignature.sign = function ({ title, meaning, method, args }) {
	return frappe.xcall("medtrace.signatures.esignature.get_signing_status").then((status) => {
		if (status.locked) {
			frappe.throw(__("Electronic signing is locked for you after too many failed attempts. Ask a System Manager to unlock it."));
		}
		return new Promise((resolve, reject) => {
			const dialog = new frappe.ui.Dialog({
				title: title || __("Electronic Signature"),
				fields: [
					{
						fieldtype: "HTML",
						options: `<p>${__("You are signing as {0} with the meaning {1}. Your signature is legally binding and is recorded with the date and time.", [
							`<b>${frappe.utils.escape_html(status.full_name)}</b>`,
							`<b>${__(meaning)}</b>`,
						])}</p>`,
					},
					{ fieldname: "password", fieldtype: "Password", label: __("Password"), reqd: 1 },
					...(status.otp_required
						? [{ fieldname: "otp", fieldtype: "Data", label: __("Authenticator Code"), reqd: 1 }]
						: []),
					{ fieldname: "reason", fieldtype: "Small Text", label: __("Reason / Comment") },
				],
				primary_action_label: __("Sign"),
				primary_action(values) {
					frappe
						.call({ method, args: { ...args, ...values }, freeze: true })
						.then((r) => {
							// Settled before hiding: hiding rejects (the dialog was closed unsigned).
							resolve(r.message);
							dialog.hide();
						});
				},
			});
			dialog.onhide = () => reject();
			dialog.show();
		});
	});
};

medtrace.esignature.signature_meaning = function (frm) {
	const workflow = frappe.workflow.workflows[frm.doctype];
	const state = frm.doc[frappe.workflow.get_state_fieldname(frm.doctype)];
	const transition = (workflow?.transitions || []).find(
		(t) => t.state === state && t.action === frm.selected_workflow_action && t.medtrace_signature_meaning
	);
	return transition?.medtrace_signature_meaning;
};

medtrace.esignature.has_signed_transitions = function (doctype) {
	const workflow = frappe.workflow.workflows[doctype];
	return (workflow?.transitions || []).some((t) => t.medtrace_signature_meaning);
};

medtrace.esignature.show_signatures = function (frm) {
	frappe
		.xcall("medtrace.signatures.esignature.get_signatures", { doctype: frm.doctype, name: frm.doc.name })
		.then((signatures) => {
			if (!signatures.length) return;
			const rows = signatures
				.map(
					(s) => `<tr>
						<td>${__(s.meaning)}</td>
						<td>${frappe.utils.escape_html(s.signer_name)} <span class="text-muted">(${frappe.utils.escape_html(s.signer)})</span></td>
						<td>${frappe.datetime.str_to_user(s.signed_on)}</td>
						<td>${frappe.utils.escape_html(s.reason || "")}</td>
						<td><a href="/app/electronic-signature/${encodeURIComponent(s.name)}">${s.name}</a></td>
					</tr>`
				)
				.join("");
			frm.dashboard.add_section(
				`<table class="table table-sm">
					<thead><tr><th>${__("Meaning")}</th><th>${__("Signed By")}</th><th>${__("Signed On")}</th><th>${__("Reason / Comment")}</th><th>${__("Signature")}</th></tr></thead>
					<tbody>${rows}</tbody>
				</table>`,
				__("Electronic Signatures")
			);
			frm.dashboard.show();
		});
};

// Forms of doctypes whose workflow has signed transitions: sign before the action runs, and list the signatures.
const registered = new Set();
$(document).on("form-refresh", (event, frm) => {
	if (frm.is_new() || !medtrace.esignature.has_signed_transitions(frm.doctype)) return;
	medtrace.esignature.show_signatures(frm);
	if (registered.has(frm.doctype)) return;
	registered.add(frm.doctype);
	frappe.ui.form.on(frm.doctype, "before_workflow_action", (frm) => {
		const meaning = medtrace.esignature.signature_meaning(frm);
		if (!meaning) return;
		// The signed action replaces Frappe's call: Frappe's form makes its own call when this handler's promise
		// settles, and logs an uncaught error when it is rejected (frappe/public/js/frappe/form/workflow.js), so
		// the promise returned never settles, whether the user signed or closed the dialog.
		frappe.dom.unfreeze();
		medtrace.esignature
			.sign({
				title: __(frm.selected_workflow_action),
				meaning,
				method: "frappe.model.workflow.apply_workflow",
				args: { doc: frm.doc, action: frm.selected_workflow_action },
			})
			.then(
				(doc) => {
					frappe.model.sync(doc);
					frm.refresh();
					frm.selected_workflow_action = null;
					frm.script_manager.trigger("after_workflow_action");
				},
				() => {}
			);
		return new Promise(() => {});
	});
});
