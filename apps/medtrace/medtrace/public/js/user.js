// A user locked out of electronic signing after failed attempts is unlocked here, by a System Manager.
frappe.ui.form.on("User", {
	refresh(frm) {
		if (frm.is_new() || !frappe.user.has_role("System Manager")) return;
		frappe.xcall("medtrace.signatures.esignature.is_signing_locked", { user: frm.doc.name }).then((locked) => {
			if (!locked) return;
			frm.dashboard.set_headline_alert(`<div class="text-danger">${__("Electronic signing is locked after failed attempts.")}</div>`);
			frm.add_custom_button(__("Unlock Electronic Signing"), () =>
				frappe
					.xcall("medtrace.signatures.esignature.unlock_signing", { user: frm.doc.name })
					.then(() => frm.reload_doc())
			);
		});
	},
});
