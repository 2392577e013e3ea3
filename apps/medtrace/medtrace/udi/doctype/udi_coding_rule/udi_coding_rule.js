// Copyright (c) 2026, MedTrace and contributors
// For license information, please see license.txt

frappe.ui.form.on("UDI Coding Rule", {
	setup(frm) {
		frm.set_query("item", () => ({
			filters: { disabled: 0, [frm.doc.number_type === "Lot" ? "has_batch_no" : "has_serial_no"]: 1 },
		}));
	},
	refresh: (frm) => preview(frm),
	number_type: (frm) => preview(frm),
	applies_to: (frm) => preview(frm),
	item: (frm) => preview(frm),
	item_group: (frm) => preview(frm),
	sequence_digits: (frm) => preview(frm),
	sequence_reset: (frm) => preview(frm),
	check_character: (frm) => preview(frm),
});

frappe.ui.form.on("UDI Coding Rule Part", {
	part: (frm) => preview(frm),
	text: (frm) => preview(frm),
	parts_add: (frm) => preview(frm),
	parts_remove: (frm) => preview(frm),
	parts_move: (frm) => preview(frm),
});

// Debounced: every keystroke in the pattern would otherwise ask the server.
const preview = frappe.utils.debounce((frm) => {
	const wrapper = frm.get_field("preview").$wrapper;
	frappe
		.call({ method: "medtrace.udi.coding_rules.preview_next_number", args: { rule: frm.doc } })
		.then((r) => {
			const { number, length, error } = r.message;
			if (error) {
				wrapper.html(`<div class="alert alert-danger">${frappe.utils.escape_html(error)}</div>`);
				return;
			}
			wrapper.html(`
				<div class="text-muted small">${__("Next number (today)")}</div>
				<div class="h3 text-monospace" style="letter-spacing: 0.05em">${frappe.utils.escape_html(number)}</div>
				<div class="text-muted small">${__("{0} characters; GS1 AI 10 and AI 21 allow 20, HIBC 18.", [length])}</div>
			`);
		});
}, 300);
