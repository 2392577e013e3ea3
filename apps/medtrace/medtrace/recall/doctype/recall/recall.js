// Copyright (c) 2026, MedTrace and contributors
// For license information, please see license.txt

const RECALL_METHODS = "medtrace.recall.doctype.recall.recall";
// States in which the customers have been (or are being) told: notifications may be sent again.
const NOTIFIED_STATES = ["Notified", "In Progress", "Effectiveness Check"];

frappe.ui.form.on("Recall", {
	refresh(frm) {
		show_unexplained_remainders(frm);
		if ((frm.doc.affected_units || []).length && frappe.model.can_read("Package")) {
			frm.add_custom_button(__("Packages to Pull"), () => show_packages_to_pull(frm));
		}
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
				// A supplier notice is traced as the notice gives it: its first lot number, of its supplier.
				const lot = frm.doc.trigger === "Supplier Notice" && first.supplier_lot;
				frappe.route_options = lot
					? { start_type: "supplier_lot", supplier_lot: lot, start_supplier: frm.doc.supplier, direction: "forward" }
					: { identifier: first.serial_no || first.batch_no, direction: "forward" };
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

// Per warehouse and per customer, the outermost cases and pallets holding affected units: pulled whole when
// intact, opened when broken open (medtrace.packaging.recall.packages_to_pull).
function show_packages_to_pull(frm) {
	frappe.xcall("medtrace.packaging.recall.packages_to_pull", { recall: frm.doc.name }).then((found) => {
		const esc = frappe.utils.escape_html;
		const link = (doctype, name) => `<a href="/app/${frappe.router.slug(doctype)}/${encodeURIComponent(name)}">${esc(name)}</a>`;
		const rows = [];
		for (const [place_type, places] of [["Warehouse", found.warehouses], ["Customer", found.customers]]) {
			for (const [place, packages] of Object.entries(places)) {
				for (const row of packages) {
					rows.push(`<tr>
						<td>${__(place_type)}: ${link(place_type, place)}</td>
						<td>${link("Package", row.outer_package)}</td>
						<td>${esc(row.sscc || "")}</td>
						<td>${esc(__(row.packaging_level || ""))}</td>
						<td class="text-right">${format_number(row.qty, null, Number.isInteger(row.qty) ? 0 : 3)}</td>
						<td>${row.intact ? __("Pull whole") : `<span class="text-danger">${__("Broken open: pull the units")}</span>`}</td>
					</tr>`);
				}
			}
		}
		const html = rows.length
			? `<table class="table table-sm table-bordered mt-packages-to-pull">
				<thead><tr><th>${__("Where")}</th><th>${__("Package")}</th><th>${__("SSCC")}</th><th>${__("Packaging Level")}</th>
				<th>${__("Affected Qty")}</th><th>${__("Action")}</th></tr></thead><tbody>${rows.join("")}</tbody></table>`
			: `<div class="text-muted">${__("No affected unit is in a package.")}</div>`;
		const dialog = new frappe.ui.Dialog({
			title: __("Packages to Pull"),
			size: "extra-large",
			fields: [{ fieldtype: "HTML", fieldname: "packages", options: html }],
		});
		dialog.show();
	});
}
