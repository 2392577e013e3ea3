// Copyright (c) 2026, MedTrace and contributors
// For license information, please see license.txt

const RECALL_METHODS = "medtrace.recall.doctype.recall.recall";
// States in which the customers have been (or are being) told: notifications may be sent again.
const NOTIFIED_STATES = ["Notified", "In Progress", "Effectiveness Check"];

frappe.ui.form.on("Recall", {
	refresh(frm) {
		show_unexplained_remainders(frm);
		if (frm.is_new() || frm.doc.status === "Closed" || !frm.perm[0].write) {
			return;
		}
		if (frm.doc.status !== "Draft") {
			frm.add_custom_button(__("Scope Again"), () =>
				call_and_reload(frm, `${RECALL_METHODS}.scope_recall`, (result) =>
					__("{0} affected units and {1} customers found in {2} s", [
						result.affected_units,
						result.customers,
						format_number(result.scope_seconds, null, 3),
					])
				)
			);
		}
		if (!frm.doc.is_drill && frm.doc.scoped_on) {
			frm.add_custom_button(__("Place Holds"), () =>
				call_and_reload(frm, `${RECALL_METHODS}.place_recall_holds`, (placed) => __("{0} holds placed", [placed]))
			);
		}
		if (NOTIFIED_STATES.includes(frm.doc.status)) {
			frm.add_custom_button(__("Send Notifications"), () =>
				frappe.confirm(__("Email every affected customer their list of affected units again?"), () =>
					call_and_reload(frm, "medtrace.recall.notifications.send_recall_notifications", (queued) =>
						frm.doc.is_drill
							? __("Drill: {0} notifications recorded, none sent", [queued])
							: __("{0} notifications queued", [queued])
					)
				)
			);
		}
		if ((frm.doc.scope || []).length) {
			const first = frm.doc.scope[0];
			frm.add_custom_button(__("Trace Explorer"), () => {
				frappe.route_options = { identifier: first.serial_no || first.batch_no, direction: "forward" };
				frappe.set_route("trace-explorer");
			});
		}
	},
});

// A lot whose mass balance does not close is what an auditor asks about first: say so above the form.
function show_unexplained_remainders(frm) {
	const gaps = (frm.doc.mass_balance || []).filter((row) => !row.balanced);
	if (!gaps.length) {
		return;
	}
	const lots = gaps
		.map((row) => `${frappe.utils.escape_html(row.batch_no)}: ${format_number(row.qty_unexplained)}`)
		.join(", ");
	frm.dashboard.set_headline_alert(`<b>${__("Unexplained remainders")}</b>: ${lots}`, "red");
}

function call_and_reload(frm, method, describe) {
	return frappe.xcall(method, { name: frm.doc.name }).then((result) => {
		frappe.show_alert({ message: describe(result), indicator: "green" });
		frm.reload_doc();
	});
}
