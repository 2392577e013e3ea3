// UDI Scan: the operator scans any label (GS1 DataMatrix / GS1-128 / Digital Link QR / HIBC) into one box
// and sees what MedTrace knows about it. Scanners type the code and press Enter.
frappe.pages["udi-scan"].on_page_load = function (wrapper) {
	const page = frappe.ui.make_app_page({
		parent: wrapper,
		title: __("UDI Scan"),
		single_column: true,
	});
	new medtrace.UDIScan(page);
};

frappe.provide("medtrace");

medtrace.UDIScan = class UDIScan {
	constructor(page) {
		this.page = page;
		this.history = [];
		this.make_input();
		this.$result = $('<div class="udi-scan-result" style="margin-top: var(--margin-lg)"></div>').appendTo(page.main);
		this.$history = $('<div class="udi-scan-history" style="margin-top: var(--margin-xl)"></div>').appendTo(page.main);
	}

	make_input() {
		this.scan_field = frappe.ui.form.make_control({
			parent: this.page.main,
			df: {
				fieldtype: "Data",
				fieldname: "scan",
				label: __("Scan a label"),
				placeholder: __("GS1 DataMatrix / GS1-128, Digital Link QR, HIBC, or a lot / serial number"),
				description: __("Focus stays here: scan one label after another."),
			},
			render_input: true,
		});
		this.scan_field.$input.addClass("input-lg").attr("autocomplete", "off");
		this.scan_field.$input.on("keydown", (event) => {
			// Scanners configured to send FNC1 as Ctrl+] would otherwise lose the group separator.
			if (event.ctrlKey && event.key === "]") {
				event.preventDefault();
				this.scan_field.$input.val(this.scan_field.$input.val() + "\x1d");
			}
			if (event.key === "Enter") {
				event.preventDefault();
				this.resolve(this.scan_field.$input.val());
			}
		});
		setTimeout(() => this.scan_field.$input.focus(), 300);
	}

	// Scanners type one label after another: each scan is taken from the box at once, so the next one can follow
	// while the first is resolved, and results are shown in the order the labels were scanned.
	resolve(scan) {
		this.scan_field.$input.val("").focus();
		if (!scan || !scan.trim()) return;
		const entry = this.remember(scan);
		this.pending = (this.pending || Promise.resolve())
			.then(() => frappe.xcall("medtrace.udi.scan.scan_label", { scan }))
			.then((result) => this.show(entry, result))
			.catch(() => this.show(entry, { status: "unreadable", message: __("The scan could not be resolved."), fields: [], warnings: [] }));
	}

	show(entry, result) {
		const { label, indicator } = medtrace.UDIScan.STATUSES[result.status] || medtrace.UDIScan.STATUSES.unreadable;
		const link = (doctype, name) =>
			name ? `<a href="/app/${frappe.router.slug(doctype)}/${encodeURIComponent(name)}">${frappe.utils.escape_html(name)}</a>` : "—";
		const rows = [
			...(result.package ? [[__("Package"), link("Package", result.package)]] : []),
			[__("Item"), result.item ? `${link("Item", result.item)} ${frappe.utils.escape_html(result.item_name || "")}` : "—"],
			[__("UDI-DI"), link("UDI Device Identifier", result.udi_device_identifier)],
			// A package of one lot shows it (AI 10 on its label).
			[__("Batch"), link("Batch", result.batch || result.content_lot)],
			[__("Serial No"), link("Serial No", result.serial_no)],
		];
		const fields = (result.fields || []).map(
			(f) => `<tr><td class="text-muted">${frappe.utils.escape_html(f.label)}</td><td><code>${frappe.utils.escape_html(f.value)}</code></td></tr>`
		);
		const warnings = (result.warnings || []).map((w) => `<div class="text-warning">⚠ ${frappe.utils.escape_html(w)}</div>`);
		const candidates = (result.candidates || []).map((c) => `<div>${__(c.doctype)}: ${link(c.doctype, c.name)}</div>`);
		this.$result.html(`
			<div class="frappe-card" data-scan-status="${frappe.utils.escape_html(result.status)}">
				<div class="flex justify-between align-center">
					<span class="indicator-pill ${indicator}">${label}</span>
					<span class="text-muted">${frappe.utils.escape_html(result.input_format || "")}</span>
				</div>
				<p class="mt-3 scan-message">${frappe.utils.escape_html(result.message)}</p>
				${warnings.join("")}${candidates.join("")}
				<div class="text-muted small">${__("Scanned data:")} <code>${frappe.utils.escape_html(entry.scan)}</code></div>
				<div class="row mt-3">
					<div class="col-md-6"><table class="table table-sm">${rows
						.map(([label, value]) => `<tr><td class="text-muted">${label}</td><td>${value}</td></tr>`)
						.join("")}</table></div>
					<div class="col-md-6"><table class="table table-sm">${fields.join("")}</table></div>
				</div>
				${result.contents ? `<div class="udi-scan-contents">${this.contents_html(result.contents, link)}</div>` : ""}
			</div>`);
		Object.assign(entry, { status: result.status, label, indicator });
		this.render_history();
		this.scan_field.$input.focus();
	}

	// A scanned package's contents as packed: its packages (each with theirs), then its loose units.
	contents_html(tree, link) {
		const esc = frappe.utils.escape_html;
		const whole = (qty) => format_number(qty, null, Number.isInteger(qty) ? 0 : 3);
		const units = (tree.units || []).map(
			(unit) => `<li>${unit.serial_no ? link("Serial No", unit.serial_no) : link("Batch", unit.batch_no)}
				<span class="text-muted">${esc(unit.item_code || "")} × ${whole(unit.qty)}</span></li>`
		);
		const packages = (tree.packages || []).map(
			(inner) => `<li>${link("Package", inner.name)} <span class="text-muted">${esc(__(inner.packaging_level || ""))}
				${esc(inner.sscc || inner.package_udi || "")} · ${__("{0} units", [whole(inner.total_units)])}</span>
				${this.contents_html(inner, link)}</li>`
		);
		return `<ul class="list-unstyled pl-3 mb-1">${packages.join("")}${units.join("")}</ul>`;
	}

	remember(scan) {
		const entry = { scan: scan.replace(/\x1d/g, "<GS>"), label: __("Resolving…"), indicator: "gray", at: frappe.datetime.now_time() };
		this.history.unshift(entry);
		this.history = this.history.slice(0, 10);
		this.render_history();
		return entry;
	}

	render_history() {
		this.$history.html(
			`<h6 class="text-muted">${__("Recent scans")}</h6>` +
				this.history
					.map(
						(h) =>
							`<div class="flex justify-between udi-scan-history-row"><code>${frappe.utils.escape_html(h.scan)}</code><span class="indicator ${h.indicator}">${h.label} · ${h.at}</span></div>`
					)
					.join("")
		);
	}
};

// What each status means at the scanning station: only a complete label that agrees with the record is green.
medtrace.UDIScan.STATUSES = {
	resolved: { label: __("Resolved"), indicator: "green" },
	incomplete: { label: __("Incomplete Label"), indicator: "orange" },
	mismatch: { label: __("Label Disagrees with Record"), indicator: "red" },
	"partially resolved": { label: __("Partially Resolved"), indicator: "orange" },
	inconsistent: { label: __("Inconsistent"), indicator: "red" },
	unknown: { label: __("Unknown"), indicator: "red" },
	ambiguous: { label: __("Ambiguous"), indicator: "orange" },
	unreadable: { label: __("Unreadable Scan"), indicator: "red" },
};
